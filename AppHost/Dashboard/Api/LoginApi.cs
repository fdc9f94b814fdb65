using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>
/// BrowserToken login, as Aspire's dashboard: /login?t=&lt;token&gt; (the URL printed at start) or the form on /login sets
/// the auth cookie; every page and API call needs that cookie.
/// </summary>
public static class LoginApi
{
    public static RouteGroupBuilder MapLogin(this RouteGroupBuilder ui)
    {
        ui.MapGet("/login", async Task<IResult> (string? t, string? returnUrl, HttpContext http, DashboardOptions options) =>
            t is null ? Form(error: null, returnUrl: returnUrl) : await SignInAsync(http, options, t, returnUrl)).AllowAnonymous();

        ui.MapPost("/login", async Task<IResult> (HttpContext http, DashboardOptions options) =>
        {
            var form = await http.Request.ReadFormAsync();
            return await SignInAsync(http, options, form["t"].ToString(), form["returnUrl"].ToString());
        }).AllowAnonymous().DisableAntiforgery();

        ui.MapPost("/logout", async Task<IResult> (HttpContext http) =>
        {
            await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.Redirect("/login");
        });
        return ui;
    }

    private static async Task<IResult> SignInAsync(HttpContext http, DashboardOptions options, string token, string? returnUrl)
    {
        if (!Matches(token, options.BrowserToken))
            return Form("That token is not valid. Use the login URL the AppHost printed at start.", returnUrl, StatusCodes.Status401Unauthorized);
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "dashboard-user")], CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity),
            new AuthenticationProperties { IsPersistent = true });
        // Only a local path: never redirect off-site from a login link.
        var target = !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/')
            && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) ? returnUrl : "/";
        return TypedResults.Redirect(target);
    }

    private static bool Matches(string presented, string? expected) =>
        !string.IsNullOrEmpty(presented) && !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));

    private static IResult Form(string? error, string? returnUrl, int status = StatusCodes.Status200OK)
    {
        var html = Encoding.UTF8.GetString(PagesApi.Read("login.html") ?? throw new InvalidOperationException("login.html is not embedded"))
            .Replace("{{error}}", error is null ? "" : $"<p class=\"error\" role=\"alert\">{System.Net.WebUtility.HtmlEncode(error)}</p>", StringComparison.Ordinal)
            .Replace("{{returnUrl}}", System.Net.WebUtility.HtmlEncode(returnUrl ?? "/"), StringComparison.Ordinal);
        return TypedResults.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
