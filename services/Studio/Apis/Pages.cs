using System.Collections.Concurrent;
using System.Reflection;

namespace Studio.Apis;

/// <summary>
/// The pages (jobs list, job page, side-by-side chat, login) and their scripts, embedded in the assembly under
/// <c>studio/</c> (wwwroot and chart.js from eng/node). Pages need the login cookie; scripts and styles do not.
/// </summary>
public static class Pages
{
    private static readonly Assembly Assembly = typeof(Pages).Assembly;
    private static readonly ConcurrentDictionary<string, byte[]?> Cache = new();

    private static readonly Dictionary<string, string> Types = new(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    public static WebApplication MapPages(this WebApplication app)
    {
        app.MapGet("/", () => Html("jobs.html")).RequireAuthorization();
        app.MapGet("/jobs/{id}", (string id) => Html("job.html")).RequireAuthorization();
        app.MapGet("/chat", () => Html("chat.html")).RequireAuthorization();
        app.MapGet("/static/{name}", (string name) => Asset(name) is { } bytes
            ? Results.Bytes(bytes, Types.GetValueOrDefault(Path.GetExtension(name), "application/octet-stream"))
            : Results.NotFound()).AllowAnonymous();
        return app;
    }

    public static IResult Html(string name, int status = StatusCodes.Status200OK)
    {
        var bytes = Asset(name) ?? throw new InvalidOperationException($"page {name} is not embedded in the Studio assembly");
        return new StatusBytes(bytes, status);
    }

    /// <summary>An embedded file by name (no folders: the name is a key, never a path).</summary>
    private static byte[]? Asset(string name) => Cache.GetOrAdd(name, n =>
    {
        using var stream = Assembly.GetManifestResourceStream("studio/" + n);
        if (stream is null) return null;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    });

    private sealed class StatusBytes(byte[] bytes, int status) : IResult
    {
        public async Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = Types[".html"];
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        }
    }
}
