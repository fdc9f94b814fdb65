using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using Studio.Auth;

namespace Studio.Services;

public static class StudioServices
{
    public const string FrontDoor = "frontdoor";
    public const string Inference = "inference";

    /// <summary>Listens on <see cref="StudioOptions.DefaultUrl"/> (loopback) unless a URL is configured.</summary>
    public static WebApplicationBuilder UseLoopbackByDefault(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"])
            && string.IsNullOrEmpty(builder.Configuration["HTTP_PORTS"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_HTTP_PORTS"]))
            builder.WebHost.UseUrls(builder.Configuration["Studio:DefaultUrl"] ?? new StudioOptions().DefaultUrl);
        return builder;
    }

    public static IHostApplicationBuilder AddStudioServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StudioOptions>().BindConfiguration("Studio");
        builder.Services.AddSingleton(sp => new StudioToken(sp.GetRequiredService<IOptions<StudioOptions>>().Value.Token));
        builder.Services.AddAuthentication(LoginApi.Scheme).AddCookie(o =>
        {
            o.Cookie.Name = "ft-studio";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.LoginPath = "/login";
            o.ExpireTimeSpan = TimeSpan.FromDays(3);
            o.Events.OnRedirectToLogin = context =>
            {
                if (context.Request.Path.StartsWithSegments("/api")) context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        builder.Services.AddAuthorization();
        AddUpstream(builder, FrontDoor, "FineTune:FrontDoor", "http://dataset");
        AddUpstream(builder, Inference, "FineTune:Inference", "http://inference");
        return builder;
    }

    /// <summary>
    /// A named client for an upstream service: its address from configuration, else the Aspire service-discovery name.
    /// No resilience handler and no timeout: event streams and chat completions stay open as long as the job or answer lasts,
    /// and a POST (an upload) must never be retried.
    /// </summary>
    private static void AddUpstream(IHostApplicationBuilder builder, string name, string key, string discovered)
    {
        var address = builder.Configuration[key] is { Length: > 0 } configured ? configured : discovered;
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked experimental; it is the documented way to opt one client out of ServiceDefaults' handler
        builder.Services.AddHttpClient(name, c =>
        {
            c.BaseAddress = new Uri(address);
            c.Timeout = Timeout.InfiniteTimeSpan;
        }).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }
}
