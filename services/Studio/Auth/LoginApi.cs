using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Studio.Apis;

namespace Studio.Auth;

/// <summary>
/// Login with the Studio's token, as Aspire's dashboard does: <c>GET /login?t=…</c> (the link printed at start) or the form
/// on <c>/login</c> (POST <c>token</c>) sets an HttpOnly, SameSite=Strict cookie; every page and API needs it (pages redirect
/// to /login, /api answers 401). <c>POST /logout</c> drops it.
/// </summary>
public static class LoginApi
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;

    public static WebApplication MapLogin(this WebApplication app)
    {
        app.MapGet("/login", async (HttpContext context, StudioToken token, string? t, string? returnUrl) =>
            t is null ? Pages.Html("login.html") : await SignInAsync(context, token, t, returnUrl)).AllowAnonymous();
        app.MapPost("/login", async (HttpContext context, StudioToken token, string? returnUrl) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            return await SignInAsync(context, token, form["token"], returnUrl);
        }).AllowAnonymous().DisableAntiforgery();
        app.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(Scheme);
            return Results.Redirect("/login");
        }).DisableAntiforgery();
        app.Lifetime.ApplicationStarted.Register(() => LogLoginUrl(app));
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext context, StudioToken token, string? candidate, string? returnUrl)
    {
        if (!token.Matches(candidate)) return Pages.Html("login.html", StatusCodes.Status401Unauthorized);
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "studio")], Scheme);
        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        return Results.Redirect(returnUrl is { Length: > 0 } && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) ? returnUrl : "/");
    }

    private static void LogLoginUrl(WebApplication app)
    {
        var token = app.Services.GetRequiredService<StudioToken>();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "";
        if (token.Generated)
            app.Logger.LogInformation("Login to the studio at {Address}/login?t={Token}", address, token.Value);
        else
            app.Logger.LogInformation("Studio at {Address} (login token from Studio:Token)", address);
    }
}
