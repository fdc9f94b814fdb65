using System.Net.Http.Json;
using System.Text.Json;
using static Microsoft.Playwright.Assertions;

namespace Studio.Tests;

/// <summary>The side-by-side chat: both answers stream through the Studio from the inference service's OpenAI API.</summary>
[Collection(StudioCollection.Name)]
public sealed class ChatTests(StudioFixture studio)
{
    private const string Prompt = "<div><h2>Aurora Kettle</h2><span>$39.90</span></div> Extract the product as JSON.";

    [Fact]
    public async Task ChatPageStreamsBaseAndFineTunedSideBySide()
    {
        var page = await studio.LoggedInPageAsync($"/chat?job={StudioFixture.ChatJobId}");
        await Expect(page.Locator("#left")).ToHaveValueAsync(StudioFixture.ChatJobId + ":base");
        await Expect(page.Locator("#right")).ToHaveValueAsync(StudioFixture.ChatJobId);
        await page.FillAsync("#prompt", Prompt);
        await page.ClickAsync("#send");

        await Expect(page.Locator("#left-answer")).ToHaveAttributeAsync("data-done", "true");
        await Expect(page.Locator("#right-answer")).ToHaveAttributeAsync("data-done", "true");
        // temperature 0 on the page: greedy, so the API gives the same text when asked directly
        Assert.Equal(await DirectAsync(StudioFixture.ChatJobId + ":base"), await page.Locator("#left-answer").TextContentAsync());
        Assert.Equal(await DirectAsync(StudioFixture.ChatJobId), await page.Locator("#right-answer").TextContentAsync());
        await studio.ScreenshotAsync(page, "chat-1280x800");
        await page.Context.CloseAsync();
    }

    private async Task<string> DirectAsync(string model)
    {
        using var http = new HttpClient { BaseAddress = studio.InferenceUrl };
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model, temperature = 0, max_tokens = 256, messages = new[] { new { role = "user", content = Prompt } },
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        var text = body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.False(string.IsNullOrEmpty(text), $"{model} answered nothing");
        return text;
    }
}
