using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace FineTune.Dashboard.Tests;

/// <summary>
/// For the browser tests: a real redis-server holding a job, the embedded dashboard reading it, telemetry sent by the real
/// OTLP exporter from four services in one trace, and headless Debian Chromium driven by Playwright (no `playwright install`).
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public RedisServer Redis { get; } = new();
    public DashboardHost Host { get; private set; } = null!;
    public ConnectionMultiplexer RedisClient { get; private set; } = null!;
    public JobSeed Job { get; private set; } = null!;
    public JobSeed FinishedJob { get; private set; } = null!;
    public string TraceId { get; private set; } = "";
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>tests/Dashboard.Tests/TestResults/screenshots (FT_SCREENSHOTS_DIR overrides), kept as CI artifacts.</summary>
    public string ScreenshotDir { get; } = Environment.GetEnvironmentVariable("FT_SCREENSHOTS_DIR") is { Length: > 0 } dir
        ? dir : Path.Combine(Repo.Root, "tests", "Dashboard.Tests", "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: run eng/prereqs.sh (apt-get install chromium).");
        Directory.CreateDirectory(ScreenshotDir);
        await Redis.StartAsync();
        RedisClient = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);
        Job = new JobSeed(RedisClient.GetDatabase(), "job-20261122-a1");
        await Job.CreateAsync();
        await Job.AppendStepsAsync(20);
        FinishedJob = new JobSeed(RedisClient.GetDatabase(), "job-20261121-b7");
        await FinishedJob.CreateAsync();
        await FinishedJob.AppendStepsAsync(60);
        await FinishedJob.FinishAsync();

        Host = await DashboardHost.StartAsync(configure: o => o.RedisConnectionString = Redis.ConnectionString);
        SendPipelineTelemetry();
        for (var i = 0; i < 6; i++)
            Host.Resources.Write("trainer", i % 2 == 0 ? "trainer-aaaa1111" : "trainer-bbbb2222", $"info: FineTune.Training[0] step {i + 1} loss {2.5 - i * 0.2:0.00}");
        Host.Resources.Write("trainer", "trainer-bbbb2222", "warn: FineTune.Training[0] gradient norm clipped", isError: true);

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>One job's trace as the pipeline makes it: dataset → preprocess → trainer → export, each its own service and exporter.</summary>
    private void SendPipelineTelemetry()
    {
        var ep = Host.Endpoints;
        var services = new (string Service, string Source, OtlpExportProtocol Protocol)[]
        {
            ("dataset", "FineTune.Dataset", OtlpExportProtocol.Grpc),
            ("preprocess", "FineTune.Preprocess", OtlpExportProtocol.HttpProtobuf),
            ("trainer", "FineTune.Training", OtlpExportProtocol.Grpc),
            ("export", "FineTune.Export", OtlpExportProtocol.HttpProtobuf),
        };
        var providers = services.Select(s => OtlpSenders.Tracer(ep, s.Protocol, s.Service, s.Service + "-0a1b2c3d", s.Source, ep.OtlpApiKey)).ToList();
        var sources = services.Select(s => new ActivitySource(s.Source)).ToList();
        using var logs = OtlpSenders.Logger(ep, OtlpExportProtocol.Grpc, "trainer", "trainer-aaaa1111", ep.OtlpApiKey);
        var log = logs.CreateLogger("FineTune.Training.Trainer");
        try
        {
            using (var submit = sources[0].StartActivity("POST /api/jobs", ActivityKind.Server)!)
            {
                submit.SetTag("http.request.method", "POST");
                submit.SetTag("ft.job.id", Job.Id);
                TraceId = submit.TraceId.ToHexString();
                using (var pre = sources[1].StartActivity("preprocess seed-003", ActivityKind.Consumer)!)
                {
                    pre.SetTag("ft.rows", 1024);
                    pre.AddEvent(new ActivityEvent("shards written", tags: new ActivityTagsCollection { ["ft.shards"] = 3 }));
                }
                using (var train = sources[2].StartActivity("train LoRA", ActivityKind.Consumer)!)
                {
                    train.SetTag("ft.replica", "trainer-aaaa1111");
                    log.LogInformation("Training {JobId} on {Device}", Job.Id, "cpu");
                    for (var e = 1; e <= 2; e++)
                        using (sources[2].StartActivity($"epoch {e}")) { }
                    log.LogWarning("Gradient norm {Norm} clipped to 1.0", 3.2);
                }
                using (var export = sources[3].StartActivity("export gguf", ActivityKind.Consumer)!)
                    export.SetStatus(ActivityStatusCode.Ok);
            }
        }
        finally
        {
            sources.ForEach(s => s.Dispose());
            providers.ForEach(p => p.Dispose());
        }

        // Metrics from both trainer replicas: a counter and a histogram, three exports each (three points per series).
        foreach (var instance in new[] { "trainer-aaaa1111", "trainer-bbbb2222" })
        {
            using var meter = new System.Diagnostics.Metrics.Meter("FineTune.Training");
            using var provider = OtlpSenders.Meter(ep, OtlpExportProtocol.Grpc, "trainer", instance, "FineTune.Training", ep.OtlpApiKey);
            var tokens = meter.CreateCounter<long>("ft.train.tokens", "{token}", "Tokens trained on");
            var step = meter.CreateHistogram<double>("ft.train.step_duration", "ms", "Time per optimizer step");
            for (var flush = 1; flush <= 3; flush++)
            {
                tokens.Add(4096 * flush);
                for (var i = 0; i < 20; i++) step.Record(180 + 15 * i + 40 * flush);
                OpenTelemetry.Metrics.MeterProviderExtensions.ForceFlush(provider, 10_000);
            }
        }
    }

    public async Task<IPage> LoggedInPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(Host.Endpoints.BrowserUrl);
        await page.WaitForURLAsync(Host.UiUrl.ToString());
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (Host is not null) await Host.DisposeAsync();
        if (RedisClient is not null) await RedisClient.DisposeAsync();
        await Redis.DisposeAsync();
    }
}
