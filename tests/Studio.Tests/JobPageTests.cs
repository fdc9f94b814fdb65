using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Studio.Tests;

/// <summary>The job page in Chromium, fed by the front door's events as the workers write them.</summary>
[Collection(StudioCollection.Name)]
public sealed class JobPageTests(StudioFixture studio)
{
    [Fact]
    public async Task LossCurveGrowsAsMetricsArrive()
    {
        var job = studio.NewJob("job-studio-live");
        await job.StartTrainingAsync();
        await job.AppendStepsAsync(20);

        var page = await studio.LoggedInPageAsync($"/jobs/{job.Id}");
        var loss = page.Locator("#loss-chart");
        await Expect(loss).ToHaveAttributeAsync("data-points", "20");
        await Expect(loss).ToHaveAttributeAsync("data-eval-points", "2");
        await Expect(page.Locator("#job-status [data-status]")).ToHaveAttributeAsync("data-status", "training");
        await Expect(page.Locator("#timeline [data-stage=training]")).ToBeVisibleAsync();

        await job.AppendStepsAsync(15);   // while the page is open: the SSE stream brings them
        await Expect(loss).ToHaveAttributeAsync("data-points", "35");
        await Expect(loss).ToHaveAttributeAsync("data-eval-points", "3");
        await Expect(page.Locator("#speed-chart")).ToHaveAttributeAsync("data-points", "35");
        await Expect(page.Locator("[data-stat=step]")).ToHaveTextAsync("35");
        await studio.ScreenshotAsync(page, "job-training-1280x800");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task FinishedJobShowsBeforeAfterMembersArtifactsAndStages()
    {
        var job = studio.NewJob("job-studio-done");
        await job.StartTrainingAsync();
        await job.AppendStepsAsync(60);
        await job.FinishAsync();

        foreach (var (width, height) in new[] { (1280, 800), (390, 844) })
        {
            var page = await studio.LoggedInPageAsync($"/jobs/{job.Id}", width, height);
            await Expect(page.Locator("#job-status [data-status]")).ToHaveAttributeAsync("data-status", "done");
            var rows = page.Locator("#eval-table tbody tr");
            await Expect(rows).ToHaveCountAsync(2);
            await Expect(rows.Nth(0)).ToContainTextAsync("HT-2024-001");
            await Expect(rows.Nth(0).Locator(".miss")).ToHaveCountAsync(1);   // base missed
            await Expect(rows.Nth(0).Locator(".match")).ToHaveCountAsync(1);  // fine-tuned matched
            await Expect(page.Locator("#eval-metrics")).ToContainTextAsync("10.0 %");
            await Expect(page.Locator("#eval-metrics")).ToContainTextAsync("80.0 %");
            await Expect(page.Locator("#member-list li")).ToHaveCountAsync(2);
            await Expect(page.Locator("#artifacts a")).ToHaveCountAsync(2);
            await Expect(page.Locator("#timeline .stage")).ToHaveCountAsync(3);
            await Expect(page.Locator("#loss-chart")).ToHaveAttributeAsync("data-points", "60");
            await studio.ScreenshotAsync(page, $"job-done-{width}x{height}");
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task AnUnknownJobSaysSoOnThePage()
    {
        var page = await studio.LoggedInPageAsync("/jobs/job-missing-0000");
        await Expect(page.Locator("#job-error")).ToContainTextAsync("job-missing-0000 could not be read");
        await Expect(page.Locator("#job-error")).ToContainTextAsync("404");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task AnArtifactDownloadsThroughTheStudio()
    {
        var job = studio.NewJob("job-studio-files");
        await job.StartTrainingAsync();
        await job.FinishAsync();
        var page = await studio.LoggedInPageAsync($"/jobs/{job.Id}");

        var link = page.Locator("#artifacts a", new PageLocatorOptions { HasText = "Modelfile" });
        var download = await page.RunAndWaitForDownloadAsync(() => link.ClickAsync());
        var path = await download.PathAsync();
        Assert.Equal("FROM ./model-q4_k_m.gguf\n", await File.ReadAllTextAsync(path));
        await page.Context.CloseAsync();
    }
}
