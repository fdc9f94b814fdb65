using Studio.Services;

namespace Studio.Apis;

/// <summary>
/// The browser's API, all behind the login cookie and all passed to the services' public HTTP APIs (never to Redis):
/// <c>/api/jobs…</c> and <c>/api/datasets</c> to the front door (Dataset.Api, docs/jobs.md), <c>/api/chat/…</c> to the
/// inference service's OpenAI API (docs/inference.md).
/// </summary>
public static class ProxyApi
{
    public static WebApplication MapFrontDoorProxy(this WebApplication app)
    {
        var api = app.MapGroup("/api").RequireAuthorization().DisableAntiforgery();
        api.MapGet("/jobs", (HttpContext c, IHttpClientFactory f) => To(c, f, "/api/jobs"));
        api.MapPost("/jobs", (HttpContext c, IHttpClientFactory f) => To(c, f, "/api/jobs"));
        api.MapPost("/jobs/demo", (HttpContext c, IHttpClientFactory f) => To(c, f, "/api/jobs/demo"));
        api.MapGet("/jobs/{id}", (string id, HttpContext c, IHttpClientFactory f) => To(c, f, $"/api/jobs/{Uri.EscapeDataString(id)}"));
        api.MapPost("/jobs/{id}/cancel", (string id, HttpContext c, IHttpClientFactory f) => To(c, f, $"/api/jobs/{Uri.EscapeDataString(id)}/cancel"));
        api.MapGet("/jobs/{id}/events", (string id, HttpContext c, IHttpClientFactory f) => To(c, f, $"/api/jobs/{Uri.EscapeDataString(id)}/events"));
        api.MapGet("/jobs/{id}/artifacts", (string id, HttpContext c, IHttpClientFactory f) => To(c, f, $"/api/jobs/{Uri.EscapeDataString(id)}/artifacts"));
        api.MapGet("/jobs/{id}/artifacts/{*path}", (string id, string path, HttpContext c, IHttpClientFactory f) =>
            To(c, f, $"/api/jobs/{Uri.EscapeDataString(id)}/artifacts/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}"));
        api.MapGet("/datasets", (HttpContext c, IHttpClientFactory f) => To(c, f, "/api/datasets"));
        api.MapPost("/datasets", (HttpContext c, IHttpClientFactory f) => To(c, f, "/api/datasets"));
        return app;
    }

    public static WebApplication MapChatProxy(this WebApplication app)
    {
        var chat = app.MapGroup("/api/chat").RequireAuthorization().DisableAntiforgery();
        chat.MapGet("/models", (HttpContext c, IHttpClientFactory f) => Forwarder.ForwardAsync(c, f.CreateClient(StudioServices.Inference), "/v1/models"));
        chat.MapPost("/completions", (HttpContext c, IHttpClientFactory f) => Forwarder.ForwardAsync(c, f.CreateClient(StudioServices.Inference), "/v1/chat/completions"));
        return app;
    }

    private static Task To(HttpContext context, IHttpClientFactory factory, string path) =>
        Forwarder.ForwardAsync(context, factory.CreateClient(StudioServices.FrontDoor), path);
}
