extern alias frontdoor;
extern alias inference;
using FineTune.Demo;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;
using StackExchange.Redis;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Studio.Tests;

/// <summary>
/// The Studio as it runs: a real redis-server, the front door (Dataset.Api) on a real port over it, the Studio on another
/// port pointed at the front door by <c>FineTune:FrontDoor</c> with a known <c>Studio:Token</c>, and headless Debian
/// Chromium driven by Playwright (no <c>playwright install</c>).
/// </summary>
public sealed class StudioFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    public const string Token = "studio-test-token-7f3a";

    private readonly TempDirectory _root = new("ft-studio");
    private WebApplicationFactory<frontdoor::Program>? _frontDoor;
    private WebApplicationFactory<Program>? _studio;
    private WebApplicationFactory<inference::Program>? _inference;

    /// <summary>A job whose adapter the trainer's code wrote (4 steps on the nano model), for the chat.</summary>
    public const string ChatJobId = "job-studio-chat";

    public RedisServer Redis { get; } = new();
    public ConnectionMultiplexer RedisClient { get; private set; } = null!;
    public string DataRoot => _root.Path;
    public Uri FrontDoorUrl { get; private set; } = null!;
    public Uri StudioUrl { get; private set; } = null!;
    public Uri InferenceUrl { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>tests/Studio.Tests/TestResults/screenshots (FT_STUDIO_SCREENSHOTS_DIR overrides), kept as CI artifacts.</summary>
    public string ScreenshotDir { get; } = Environment.GetEnvironmentVariable("FT_STUDIO_SCREENSHOTS_DIR") is { Length: > 0 } dir
        ? dir : Path.Combine(Repo.Root, "tests", "Studio.Tests", "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: run eng/prereqs.sh (apt-get install chromium).");
        Directory.CreateDirectory(ScreenshotDir);
        Assertions.SetDefaultExpectTimeout(30_000); // a loaded 2-core machine; the waits end as soon as the page shows it
        await Redis.StartAsync();
        RedisClient = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString);

        var frontPort = FreePort.Next();
        _frontDoor = new WebApplicationFactory<frontdoor::Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("urls", $"http://127.0.0.1:{frontPort}");
            b.UseSetting("ConnectionStrings:redis", Redis.ConnectionString);
            b.UseSetting("FineTune:DataRoot", DataRoot);
        });
        _frontDoor.UseKestrel(frontPort);
        _frontDoor.StartServer();
        FrontDoorUrl = new Uri($"http://127.0.0.1:{frontPort}");

        await TrainChatJobAsync();
        var inferencePort = FreePort.Next();
        _inference = new WebApplicationFactory<inference::Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("urls", $"http://127.0.0.1:{inferencePort}");
            b.UseSetting("FineTune:DataRoot", DataRoot);
        });
        _inference.UseKestrel(inferencePort);
        _inference.StartServer();
        InferenceUrl = new Uri($"http://127.0.0.1:{inferencePort}");

        var studioPort = FreePort.Next();
        _studio = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("urls", $"http://127.0.0.1:{studioPort}");
            b.UseSetting("Studio:Token", Token);
            b.UseSetting("FineTune:FrontDoor", FrontDoorUrl.ToString());
            b.UseSetting("FineTune:Inference", InferenceUrl.ToString());
        });
        _studio.UseKestrel(studioPort);
        _studio.StartServer();
        StudioUrl = new Uri($"http://127.0.0.1:{studioPort}");

        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>The tiny model under models/, and a job folder with an adapter trained by the product's TrainingRun, where the trainer puts it.</summary>
    private async Task TrainChatJobAsync()
    {
        TorchSharp.torch.set_num_threads(1);
        var model = Path.Combine(DataRoot, TinyModel.DataRootFolder);
        TinyModel.Write(model, seed: 0, TinyModelPreset.Nano);
        var work = Path.Combine(DataRoot, "work");
        Directory.CreateDirectory(work);
        ProductExtractionTask.WriteJsonl(Path.Combine(work, "train.jsonl"), 8, seed: 1);
        ProductExtractionTask.WriteJsonl(Path.Combine(work, "eval.jsonl"), 2, seed: 2);
        var job = DemoJob.Create(model, Path.Combine(work, "train.jsonl"), Path.Combine(work, "eval.jsonl"), Path.Combine(DataRoot, "jobs", ChatJobId, "train"), maxSteps: 3);
        job.Training.MicroBatchSize = 2;
        job.Training.GradientAccumulationSteps = 1;
        job.Training.WarmupSteps = 0;
        job.Training.LearningRate = 2e-2;
        job.Eval.MaxNewTokens = 2;
        using var run = await TrainingRun.PrepareAsync(job);
        await foreach (var _ in run.RunAsync()) { }
    }

    public JobWriter NewJob(string id) => new(RedisClient, DataRoot, id);

    /// <summary>A browser page logged in through the token link, at <paramref name="path"/>.</summary>
    public async Task<IPage> LoggedInPageAsync(string path = "/", int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.SetDefaultTimeout(20_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(StudioUrl, $"/login?t={Token}&returnUrl={Uri.EscapeDataString(path)}").ToString());
        await page.WaitForURLAsync(new Uri(StudioUrl, path).ToString());
        return page;
    }

    public Task ScreenshotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, name + ".png"), FullPage = true });

    /// <summary>An HTTP client that follows no redirects and keeps no cookies, for the login checks.</summary>
    public HttpClient RawClient() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = StudioUrl };

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        Playwright?.Dispose();
        if (_studio is not null) await _studio.DisposeAsync();
        if (_frontDoor is not null) await _frontDoor.DisposeAsync();
        if (_inference is not null) await _inference.DisposeAsync();
        if (RedisClient is not null) await RedisClient.DisposeAsync();
        await Redis.DisposeAsync();
        _root.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class StudioCollection : ICollectionFixture<StudioFixture>
{
    public const string Name = "studio";
}
