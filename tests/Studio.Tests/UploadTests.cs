using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Studio.Tests;

/// <summary>The jobs page's upload form: a dataset reaches the front door; with "start a job" a job is created on it.</summary>
[Collection(StudioCollection.Name)]
public sealed class UploadTests(StudioFixture studio)
{
    private static FilePayload Dataset(string name, int records) => new()
    {
        Name = name,
        MimeType = "application/jsonl",
        Buffer = Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, records).Select(i =>
            $$"""{"messages":[{"role":"user","content":"What is {{i}} plus {{i}}?"},{"role":"assistant","content":"{{i + i}}"}]}"""))),
    };

    [Fact]
    public async Task UploadFormCreatesADataset()
    {
        var page = await studio.LoggedInPageAsync("/");
        await page.SetInputFilesAsync("#file", Dataset("sums-studio.jsonl", 12));
        await page.UncheckAsync("#start-job");
        await page.ClickAsync("#submit");

        var id = await page.Locator("#created-dataset").TextContentAsync();
        Assert.False(string.IsNullOrEmpty(id));
        await Expect(page.Locator($"#datasets tr[data-dataset='{id}']")).ToContainTextAsync("sums-studio.jsonl");
        using var frontDoor = new HttpClient { BaseAddress = studio.FrontDoorUrl };
        var datasets = await frontDoor.GetFromJsonAsync<JsonElement>("/api/datasets");
        var stored = datasets.EnumerateArray().Single(d => d.GetProperty("id").GetString() == id);
        Assert.Equal("sums-studio.jsonl", stored.GetProperty("name").GetString());
        Assert.Equal(12, stored.GetProperty("stats").GetProperty("records").GetInt64());
        await studio.ScreenshotAsync(page, "jobs-1280x800");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task UploadFormWithStartAJobCreatesTheJobOnTheNewDataset()
    {
        var page = await studio.LoggedInPageAsync("/", 390, 844);
        await page.SetInputFilesAsync("#file", Dataset("sums-job.jsonl", 8));
        await page.FillAsync("#max-steps", "5");
        await page.ClickAsync("#submit");

        var id = await page.Locator("#created-job").TextContentAsync();
        await Expect(page.Locator($"#jobs tr[data-job='{id}']")).ToBeVisibleAsync();
        using var frontDoor = new HttpClient { BaseAddress = studio.FrontDoorUrl };
        var job = await frontDoor.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}");
        Assert.Equal(5, job.GetProperty("fields").GetProperty("spec").GetProperty("training").GetProperty("max_steps").GetInt32());
        await studio.ScreenshotAsync(page, "jobs-390x844");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task ARejectedDatasetShowsTheFrontDoorsErrorWithTheLine()
    {
        var page = await studio.LoggedInPageAsync("/");
        await page.SetInputFilesAsync("#file", new FilePayload { Name = "broken.jsonl", MimeType = "application/jsonl", Buffer = Encoding.UTF8.GetBytes("{\"messages\": [}\n") });
        await page.UncheckAsync("#start-job");
        await page.ClickAsync("#submit");
        await Expect(page.Locator("#upload-result.error")).ToContainTextAsync("line 1");
        await page.Context.CloseAsync();
    }
}
