using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Net.Http.Headers;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>
/// The pages, at Aspire's routes: every page route answers with the one page shell (assets/shell.html), whose script
/// draws the page for the path. Assets are embedded in the assembly at build (chart.js from eng/node, see Dashboard.targets).
/// </summary>
public static class PagesApi
{
    private static readonly string[] PageRoutes =
    [
        "/", "/consolelogs", "/consolelogs/resource/{name}", "/structuredlogs", "/structuredlogs/resource/{name}",
        "/traces", "/traces/detail/{traceId}", "/metrics", "/metrics/resource/{resource}",
        "/metrics/resource/{resource}/meter/{meter}/instrument/{instrument}", "/jobs", "/jobs/{id}",
    ];

    private static readonly ConcurrentDictionary<string, byte[]?> Cache = new(StringComparer.Ordinal);

    public static RouteGroupBuilder MapPages(this RouteGroupBuilder ui)
    {
        foreach (var route in PageRoutes)
            ui.MapGet(route, () => Asset("shell.html"));
        ui.MapGet("/assets/{**path}", (string path) => Asset(path)).AllowAnonymous();
        return ui;
    }

    public static IResult Asset(string path)
    {
        var bytes = Read(path);
        if (bytes is null)
            return path == "lib/chart.umd.js"
                ? TypedResults.Problem("chart.js was not embedded at build: run eng/prereqs.sh and rebuild the AppHost.", statusCode: 500)
                : TypedResults.NotFound();
        return TypedResults.Bytes(bytes, ContentType(path));
    }

    /// <summary>The bytes of an embedded asset (assets/&lt;path&gt; comes from Dashboard/wwwroot/&lt;path&gt;), or null.</summary>
    public static byte[]? Read(string path) => Cache.GetOrAdd(path, static p =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("dashboard/" + p);
        if (stream is null) return null;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private static string ContentType(string path) => Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    /// <summary>Pages and API answers must not be cached or framed by other sites.</summary>
    public static IApplicationBuilder UseDashboardHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.Headers[HeaderNames.CacheControl] = "no-store";
        context.Response.Headers[HeaderNames.XFrameOptions] = "DENY";
        context.Response.Headers["X-Content-Type-Options"] = "nosniff";
        await next(context);
    });
}
