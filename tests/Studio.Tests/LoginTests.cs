using Microsoft.Playwright;
using System.Net;

namespace Studio.Tests;

/// <summary>The Studio refuses everything but the login page without its token's cookie.</summary>
[Collection(StudioCollection.Name)]
public sealed class LoginTests(StudioFixture studio)
{
    [Theory]
    [InlineData("/api/jobs")]
    [InlineData("/api/jobs/job-x/events")]
    [InlineData("/api/datasets")]
    [InlineData("/api/chat/models")]
    public async Task ApiWithoutTheCookieIs401(string path)
    {
        using var http = studio.RawClient();
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/jobs/job-x")]
    [InlineData("/chat")]
    public async Task PagesWithoutTheCookieRedirectToLogin(string path)
    {
        using var http = studio.RawClient();
        using var response = await http.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task AWrongTokenIsRefusedAndTheRightOneGivesACookieThatOpensTheApi()
    {
        using var http = studio.RawClient();
        using (var wrong = await http.GetAsync("/login?t=not-the-token"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.False(wrong.Headers.Contains("Set-Cookie"));
        }
        using var right = await http.GetAsync($"/login?t={StudioFixture.Token}");
        Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
        var cookie = right.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ft-studio=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/jobs");
        request.Headers.Add("Cookie", cookie.Split(';')[0]);
        using var jobs = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, jobs.StatusCode);
    }

    [Fact]
    public async Task TheBrowserLandsOnTheLoginFormAndTheTokenLetsItIn()
    {
        var context = await studio.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(studio.StudioUrl, "/").ToString());
        Assert.Contains("/login", page.Url);
        await page.FillAsync("input[name=token]", "wrong");
        // Wait for the refused POST's page before typing again: filling the old page races its replacement.
        var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("button[type=submit]"),
            r => r.Request.Method == "POST" && r.Url.Contains("/login", StringComparison.Ordinal));
        Assert.Equal(401, refused.Status);
        await page.WaitForLoadStateAsync(LoadState.Load);
        Assert.Contains("/login", page.Url);
        await page.FillAsync("input[name=token]", StudioFixture.Token);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(new Uri(studio.StudioUrl, "/").ToString());
        await page.Locator("#jobs").WaitForAsync();
        await context.CloseAsync();
    }
}
