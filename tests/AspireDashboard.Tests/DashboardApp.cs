using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Aspire.Hosting.Testing;
using Microsoft.Playwright;
using TempDirectory = FineTune.Tests.TempDirectory;

namespace FineTune.AspireDashboard.Tests;

/// <summary>
/// The real AppHost under DistributedApplicationTestingBuilder with the Aspire dashboard on, every port free (Aspire reports
/// success even when 18888 is taken, so no fixed port is used), a known browser token, no demo job; then one small job
/// submitted through the front door with a trace the test starts (so it knows the trace id), run to the end; and headless
/// Debian Chromium for the pages.
/// </summary>
public sealed class DashboardApp : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private static readonly TimeSpan Startup = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan JobBound = TimeSpan.FromMinutes(10);
    private readonly TempDirectory _state = new("ft-dashboard");

    public DistributedApplication App { get; private set; } = null!;
    public string DashboardUrl { get; private set; } = $"http://localhost:{FreePort.Next()}";
    public string BrowserToken { get; private set; } = Guid.NewGuid().ToString("N");
    public string TraceId { get; private set; } = "";
    public string JobId { get; private set; } = "";
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>tests/AspireDashboard.Tests/TestResults/screenshots (FT_SCREENSHOTS_DIR overrides), kept as CI artifacts.</summary>
    public string ScreenshotDir { get; } = Environment.GetEnvironmentVariable("FT_SCREENSHOTS_DIR") is { Length: > 0 } dir
        ? dir : Path.Combine(Repo.Root, "tests", "AspireDashboard.Tests", "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: run eng/prereqs.sh (apt-get install chromium).");
        Directory.CreateDirectory(ScreenshotDir);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            $"--AppHost:StateDirectory={_state.Path}", "--FineTune:FrontDoorPort=0", "--FineTune:InferencePort=0", "--AppHost:ContainerRuntime=none", "--FineTune:Demo:Enabled=false",
            $"--ASPNETCORE_URLS={DashboardUrl}",
            $"--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
            $"--ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
            $"--ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
            "--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true",
            $"--AppHost:BrowserToken={BrowserToken}",
        ], (options, _) => { options.DisableDashboard = false; options.AllowUnsecuredTransport = true; });
        App = await builder.BuildAsync();
        using (var cts = new CancellationTokenSource(Startup))
        {
            await App.StartAsync(cts.Token);
            foreach (var name in new[] { "redis", "dataset", "preprocess", "trainer", "export" })
                await App.ResourceNotifications.WaitForResourceHealthyAsync(name, cts.Token);
        }
        // Where the dashboard really listens and its token, as Aspire gave them to the dashboard process (the testing
        // builder applies the AppHost's launch profile over command-line settings).
        var model = App.Services.GetRequiredService<DistributedApplicationModel>();
        var dashboard = model.Resources.OfType<IResourceWithEnvironment>().Single(r => r.Name == "aspire-dashboard");
#pragma warning disable CS0618 // the replacement (ExecutionConfigurationBuilder) needs DCP-side context a test does not have
        var env = await dashboard.GetEnvironmentVariableValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
        DashboardUrl = App.GetEndpoint("aspire-dashboard", "http").ToString().TrimEnd('/'); // a port DCP allocated
        if (env.TryGetValue("DASHBOARD__FRONTEND__BROWSERTOKEN", out var token) && token.Length > 0) BrowserToken = token;
        await RunOneJobAsync();

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A small demo job (nano model, a few steps, two evaluation answers), in a trace this test starts.</summary>
    private async Task RunOneJobAsync()
    {
        using var http = new HttpClient { BaseAddress = App.GetEndpoint("dataset", "http"), Timeout = TimeSpan.FromMinutes(2) };
        var traceId = ActivityTraceId.CreateRandom();
        TraceId = traceId.ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs/demo")
        {
            Content = JsonContent.Create(new
            {
                preset = "nano", export = true,
                training = new { max_steps = 6, parallelism = 2, micro_batch_size = 2, gradient_accumulation_steps = 2 },
                eval = new { max_examples = 2, max_new_tokens = 8 },
            }),
        };
        request.Headers.Add("traceparent", $"00-{TraceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        using var created = await http.SendAsync(request);
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.IsSuccessStatusCode, $"POST /api/jobs/demo: {(int)created.StatusCode} {body}");
        JobId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        var job = await Eventually.UntilAsync(() => http.GetFromJsonAsync<JsonElement>($"/api/jobs/{JobId}"),
            j => j.GetProperty("status").GetString() is "done" or "failed" or "cancelled", JobBound, $"job {JobId} final", TimeSpan.FromSeconds(1));
        Assert.True(job.GetProperty("status").GetString() == "done", $"job {JobId} ended: {job}");
    }

    /// <summary>A page logged in with the browser token, at the given viewport.</summary>
    public async Task<IPage> LoggedInPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{DashboardUrl}/login?t={BrowserToken}");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (App is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try { await App.StopAsync(cts.Token); }
            catch (OperationCanceledException) { }
            await App.DisposeAsync();
        }
        _state.Dispose();
    }
}
