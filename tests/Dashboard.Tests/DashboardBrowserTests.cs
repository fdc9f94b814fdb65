using Microsoft.Playwright;

namespace FineTune.Dashboard.Tests;

/// <summary>The dashboard in real headless Chromium: login, resources, the job's live loss curve, a trace across services, layouts.</summary>
public sealed class DashboardBrowserTests(BrowserFixture fx) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task LoginRefusesWrongTokenAndPrintedLinkLogsIn()
    {
        var context = await fx.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(fx.Host.UiUrl, "/traces").ToString());
        Assert.StartsWith(new Uri(fx.Host.UiUrl, "/login").ToString(), page.Url); // every page needs the cookie

        await page.FillAsync("#t", "wrong-token");
        await page.ClickAsync("button[type=submit]");
        await Assertions.Expect(page.Locator(".error")).ToContainTextAsync("not valid");

        await page.FillAsync("#t", fx.Host.Dashboard.Options.BrowserToken!);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(new Uri(fx.Host.UiUrl, "/traces").ToString()); // back where it was going
        await Assertions.Expect(page.Locator("#traces")).ToBeVisibleAsync();
        await context.CloseAsync();
    }

    [Fact]
    public async Task ResourcesPageShowsEveryResourceHealthyAndRestartsFromItsButton()
    {
        var page = await fx.LoggedInPageAsync();
        foreach (var name in new[] { "redis", "dataset", "preprocess", "trainer", "export" })
        {
            var row = page.Locator($"tr[data-resource='{name}']");
            await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "Running");
            await Assertions.Expect(row).ToHaveAttributeAsync("data-health", "Healthy");
        }
        await Assertions.Expect(page.Locator("tr[data-resource='trainer'] td.restarts")).ToHaveTextAsync("0");
        await page.ClickAsync("tr[data-resource='trainer'] button[data-command='restart']");
        // The runner's change comes back over the live feed: both replicas restarted once.
        await Assertions.Expect(page.Locator("tr[data-resource='trainer'] td.restarts")).ToHaveTextAsync("2");
        Assert.Contains(("trainer", "restart"), fx.Host.Resources.Commands);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task JobPageLossCurveGrowsAsTrainerAppendsMetrics()
    {
        var page = await fx.LoggedInPageAsync();
        await page.ClickAsync("a[data-nav='jobs']");
        await page.ClickAsync($"tr[data-job='{fx.Job.Id}']");
        await page.WaitForURLAsync(new Uri(fx.Host.UiUrl, $"/jobs/{fx.Job.Id}").ToString());
        var before = fx.Job.Steps;
        await Assertions.Expect(page.Locator("#loss-box")).ToHaveAttributeAsync("data-points", before.ToString());
        await Assertions.Expect(page.Locator(".stage[data-stage='training']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("active"));

        await fx.Job.AppendStepsAsync(15);
        await Assertions.Expect(page.Locator("#loss-box")).ToHaveAttributeAsync("data-points", (before + 15).ToString());
        await Assertions.Expect(page.Locator("#stat-step")).ToHaveTextAsync((before + 15).ToString());
        var drawn = await page.EvaluateAsync<int>("() => Chart.getChart('loss-chart').data.datasets[0].data.length");
        Assert.Equal(before + 15, drawn);
        var evalPoints = await page.EvaluateAsync<int>("() => Chart.getChart('loss-chart').data.datasets[1].data.length");
        Assert.Equal((before + 15) / 10, evalPoints);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(fx.ScreenshotDir, "job-live-1280x800.png"), FullPage = true });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task FinishedJobShowsArtifactsAndBeforeAfterTable()
    {
        var page = await fx.LoggedInPageAsync();
        await page.GotoAsync(new Uri(fx.Host.UiUrl, $"/jobs/{fx.FinishedJob.Id}").ToString());
        await Assertions.Expect(page.Locator("#job-status")).ToHaveTextAsync("done");
        var table = page.Locator("#eval-table");
        await Assertions.Expect(table).ToContainTextAsync("HT-2024-001");
        await Assertions.Expect(table.Locator("thead")).ToContainTextAsync("Fine-tuned answer");
        await Assertions.Expect(page.Locator("#eval")).ToContainTextAsync("exact_match");
        await Assertions.Expect(page.Locator(".artifacts")).ToContainTextAsync("model-f16.gguf");
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("data-parallel ×2: trainer-aaaa1111, trainer-bbbb2222 (generation 1)");
        foreach (var stage in new[] { "preprocessing", "training", "exporting" })
            await Assertions.Expect(page.Locator($".stage[data-stage='{stage}']")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("done"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task TraceWaterfallShowsSpansFromFourServicesInOneTrace()
    {
        var page = await fx.LoggedInPageAsync();
        await page.ClickAsync("a[data-nav='traces']");
        await page.ClickAsync($"tr[data-trace='{fx.TraceId}']");
        await page.WaitForURLAsync(new Uri(fx.Host.UiUrl, $"/traces/detail/{fx.TraceId}").ToString());
        await Assertions.Expect(page.Locator(".span-row")).ToHaveCountAsync(6);
        var services = await page.Locator(".span-row").EvaluateAllAsync<string[]>("rows => [...new Set(rows.map(r => r.dataset.service))]");
        Assert.Equal(["dataset", "export", "preprocess", "trainer"], services.Order().ToArray());
        await Assertions.Expect(page.Locator("#service-count")).ToHaveTextAsync("4");

        // A span opens to its attributes and events.
        await page.ClickAsync(".span-row[data-service='preprocess']");
        var detail = page.Locator(".span-detail:visible");
        await Assertions.Expect(detail).ToContainTextAsync("ft.rows");
        await Assertions.Expect(detail).ToContainTextAsync("shards written");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task StructuredLogsFilterByTraceAndLevel()
    {
        var page = await fx.LoggedInPageAsync();
        await page.GotoAsync(new Uri(fx.Host.UiUrl, $"/structuredlogs?traceId={fx.TraceId}").ToString());
        await Assertions.Expect(page.Locator("#logs tbody tr.clickable")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#logs dl.attrs").First).ToBeHiddenAsync(); // details open on click
        await page.Locator("#logs tbody tr.clickable").First.ClickAsync();
        await Assertions.Expect(page.Locator("#logs dl.attrs").First).ToBeVisibleAsync();
        await page.SelectOptionAsync("select[aria-label='Level']", "Warning");
        await Assertions.Expect(page.Locator("#logs tbody tr.clickable")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#logs tbody")).ToContainTextAsync("Gradient norm 3.2 clipped");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ConsoleLogsStreamNewLinesAndSearch()
    {
        var page = await fx.LoggedInPageAsync();
        await page.GotoAsync(new Uri(fx.Host.UiUrl, "/consolelogs/resource/trainer").ToString());
        await Assertions.Expect(page.Locator("#console .line")).ToHaveCountAsync(fx.Host.Resources.GetConsoleLogs("trainer").Count);
        var marker = $"checkpoint saved {Guid.NewGuid():N}";
        fx.Host.Resources.Write("trainer", "trainer-aaaa1111", marker);
        await Assertions.Expect(page.Locator("#console")).ToContainTextAsync(marker);
        await page.FillAsync("input[aria-label='Search console']", "clipped");
        await Assertions.Expect(page.Locator("#console .line")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#console mark")).ToHaveTextAsync("clipped");
        await page.Context.CloseAsync();
    }

    public static TheoryData<int, int> Viewports => new() { { 1280, 800 }, { 390, 844 } };

    [Theory]
    [MemberData(nameof(Viewports))]
    public async Task EveryPageRendersAtDesktopAndPhoneSize(int width, int height)
    {
        var page = await fx.LoggedInPageAsync(width, height);
        var pages = new (string Name, string Path, string Key)[]
        {
            ("resources", "/", "tr[data-resource='trainer']"),
            ("consolelogs", "/consolelogs/resource/trainer", "#console .line"),
            ("structuredlogs", "/structuredlogs", "#logs tbody tr.clickable"),
            ("traces", "/traces", $"tr[data-trace='{fx.TraceId}']"),
            ("trace", $"/traces/detail/{fx.TraceId}", ".span-row"),
            ("metrics", "/metrics/resource/trainer/meter/FineTune.Training/instrument/ft.train.step_duration", "#metric-chart"),
            ("jobs", "/jobs", $"tr[data-job='{fx.Job.Id}']"),
            ("job", $"/jobs/{fx.FinishedJob.Id}", "#eval-table"),
        };
        foreach (var (name, path, key) in pages)
        {
            await page.GotoAsync(new Uri(fx.Host.UiUrl, path).ToString());
            await Assertions.Expect(page.Locator(key).First).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator(".nav")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#live.on"), $"{name}: live feed connected").ToHaveTextAsync("live");
            // Nothing wider than the screen: tables and charts fit or scroll inside their own box.
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 1, $"{name} at {width}x{height} is {overflow}px wider than the viewport");
            var file = Path.Combine(fx.ScreenshotDir, $"{name}-{width}x{height}.png");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
            Assert.True(new FileInfo(file).Length > 8_000, $"{file} is suspiciously small ({new FileInfo(file).Length} bytes)");
        }
        await page.Context.CloseAsync();
    }
}
