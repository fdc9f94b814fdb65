using Microsoft.Playwright;

namespace FineTune.AspireDashboard.Tests;

/// <summary>The real Aspire dashboard, as a user sees it in Chromium after `./run.sh` and one job.</summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardApp app)
{
    private static readonly string[] Services = ["dataset", "preprocess", "trainer", "export"];

    [Fact]
    public async Task TheTokenLogsInAndEveryResourceIsRunningWithBothTrainerReplicas()
    {
        foreach (var (width, height) in new[] { (1280, 800), (390, 844) })
        {
            var page = await app.LoggedInPageAsync(width, height);
            // The resources page lists every resource; the trainer twice (one row per replica).
            await page.GetByText("export", new() { Exact = true }).First.WaitForAsync();
            await Expect(page, "redis", "dataset", "preprocess", "export");
            var text = await page.InnerTextAsync("body");
            if (width == 1280)
            {
                Assert.True(Count(text, "trainer-") >= 2, $"two trainer replicas on the resources page:\n{text}");
                Assert.True(Count(text, "Running") >= 6, $"redis, dataset, preprocess, export and two trainers Running:\n{text}");
            }
            await page.ScreenshotAsync(new() { Path = Path.Combine(app.ScreenshotDir, $"resources-{width}x{height}.png"), FullPage = true });
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task TheJobIsOneTraceWithSpansFromEveryService()
    {
        var page = await app.LoggedInPageAsync();
        await page.GotoAsync($"{app.DashboardUrl}/traces/detail/{app.TraceId}");
        await page.GetByText("demo job create").First.WaitForAsync();
        await Expect(page, Services);
        await page.ScreenshotAsync(new() { Path = Path.Combine(app.ScreenshotDir, "trace-1280x800.png"), FullPage = true });
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AWrongTokenIsRefused()
    {
        var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{app.DashboardUrl}/login?t=0123456789abcdef0123456789abcdef");
        await page.GotoAsync(app.DashboardUrl);
        Assert.Contains("/login", page.Url);
        await context.CloseAsync();
    }

    private static async Task Expect(IPage page, params string[] names)
    {
        var text = await page.InnerTextAsync("body");
        foreach (var name in names)
            Assert.True(text.Contains(name, StringComparison.Ordinal), $"'{name}' is not on {page.Url}:\n{text}");
    }

    private static int Count(string text, string word)
    {
        var count = 0;
        for (var i = text.IndexOf(word, StringComparison.Ordinal); i >= 0; i = text.IndexOf(word, i + word.Length, StringComparison.Ordinal)) count++;
        return count;
    }
}

/// <summary>One AppHost for the class: it runs redis, four services and two trainers.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DashboardCollection : ICollectionFixture<DashboardApp>
{
    public const string Name = "aspire dashboard";
}
