using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FineTune.Export.Tests;

/// <summary>
/// A small HTTP server with the documented behaviour of Ollama's /api/blobs/:digest (HEAD, POST), /api/create,
/// /api/tags, /api/show and /api/chat (shared/reference/gguf-ollama.md §6). The only stand-in the tests use, because
/// no Ollama build can be installed here. Faults can be injected to exercise retries and permanent errors.
/// </summary>
public sealed class OllamaStub : IAsyncDisposable
{
    private static readonly System.Text.RegularExpressions.Regex DigestPattern = new("^sha256[:-][0-9a-f]{64}$");
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, long> _blobs = new();
    private readonly ConcurrentDictionary<string, JsonObject> _models = new();

    public ConcurrentQueue<string> Requests { get; } = new();
    /// <summary>Number of upcoming requests to a path prefix that fail with the given status before succeeding.</summary>
    public ConcurrentDictionary<string, (int Remaining, int Status)> Faults { get; } = new();
    public long LargestBlobBytes { get; private set; }

    private OllamaStub(WebApplication app) => _app = app;

    public Uri Endpoint { get; private set; } = null!;

    public static async Task<OllamaStub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = FreePort.Next();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(o => o.Limits.MaxRequestBodySize = null);   // GGUF blobs are GBs
        var app = builder.Build();
        var stub = new OllamaStub(app) { Endpoint = new Uri($"http://127.0.0.1:{port}/") };
        stub.Map(app);
        await app.StartAsync();
        return stub;
    }

    public bool HasBlob(string digest) => _blobs.ContainsKey(digest.Replace('-', ':'));
    public JsonObject? Model(string name) => _models.TryGetValue(Normalize(name), out var m) ? m : null;

    private static string Normalize(string name) => name.Contains(':') ? name : name + ":latest";

    private void Map(WebApplication app)
    {
        app.Use(async (ctx, next) =>
        {
            Requests.Enqueue($"{ctx.Request.Method} {ctx.Request.Path}");
            foreach (var (prefix, (remaining, status)) in Faults)
                if (ctx.Request.Path.StartsWithSegments(prefix) && remaining > 0)
                {
                    Faults[prefix] = (remaining - 1, status);
                    ctx.Response.StatusCode = status;
                    await ctx.Response.WriteAsJsonAsync(new { error = $"injected fault {status}" });
                    return;
                }
            await next();
        });
        app.MapMethods("/api/blobs/{digest}", ["HEAD"], (string digest) =>
            !DigestPattern.IsMatch(digest) ? Results.BadRequest() : _blobs.ContainsKey(digest.Replace('-', ':')) ? Results.Ok() : Results.NotFound());
        app.MapPost("/api/blobs/{digest}", async (string digest, HttpRequest request) =>
        {
            if (!DigestPattern.IsMatch(digest)) return Results.BadRequest(new { error = "invalid digest format" });
            var key = digest.Replace('-', ':');
            if (_blobs.ContainsKey(key)) return Results.Ok();
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long total = 0;
            int n;
            while ((n = await request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, n);
                total += n;
            }
            var actual = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
            if (actual != key) return Results.BadRequest(new { error = $"digest mismatch, expected \"{key}\", got \"{actual}\"" });
            _blobs[key] = total;
            LargestBlobBytes = Math.Max(LargestBlobBytes, total);
            return Results.Created();
        });
        app.MapPost("/api/create", async (HttpRequest request, HttpResponse response) =>
        {
            var body = await JsonNode.ParseAsync(request.Body) as JsonObject ?? new JsonObject();
            var name = body["model"]?.GetValue<string>();
            if (string.IsNullOrEmpty(name)) return Results.BadRequest(new { error = "model is required" });
            var files = body["files"] as JsonObject;
            var from = body["from"]?.GetValue<string>();
            if (files is null && from is null) return Results.BadRequest(new { error = "neither 'from' or 'files' was specified" });
            foreach (var section in new[] { files, body["adapters"] as JsonObject })
                foreach (var (file, digest) in section ?? [])
                    if (!_blobs.ContainsKey(digest!.GetValue<string>()))
                        return Results.BadRequest(new { error = $"blob for {file} ({digest}) not found" });
            if (from is not null && Model(from) is null) return Results.NotFound(new { error = $"model '{from}' not found" });
            if ((body["adapters"] as JsonObject)?.Count > 1) return Results.BadRequest(new { error = "only one adapter is allowed" });
            _models[Normalize(name)] = body;
            var stream = body["stream"]?.GetValue<bool>() ?? true;
            if (!stream) return Results.Json(new { status = "success" });
            response.ContentType = "application/x-ndjson";
            foreach (var status in new[] { "parsing GGUF", "using existing layer", "writing manifest", "success" })
                await response.WriteAsync(JsonSerializer.Serialize(new { status }) + "\n");
            return Results.Empty;
        });
        app.MapGet("/api/tags", () => Results.Json(new
        {
            models = _models.Select(m => new
            {
                name = m.Key,
                model = m.Key,
                modified_at = DateTime.UtcNow,
                size = (m.Value["files"] as JsonObject)?.Sum(f => _blobs.GetValueOrDefault(f.Value!.GetValue<string>())) ?? 0,
                digest = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(m.Value.ToJsonString()))),
                details = new { format = "gguf", family = "stub", parameter_size = "", quantization_level = "" },
            }),
        }));
        app.MapPost("/api/show", async (HttpRequest request) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var name = body?["model"]?.GetValue<string>() ?? body?["name"]?.GetValue<string>() ?? "";
            var m = Model(name);
            return m is null ? Results.NotFound(new { error = $"model '{name}' not found" })
                : Results.Json(new { template = m["template"]?.GetValue<string>(), parameters = m["parameters"]?.ToJsonString(), system = m["system"]?.GetValue<string>() });
        });
        app.MapPost("/api/chat", async (HttpRequest request, HttpResponse response) =>
        {
            var body = await JsonNode.ParseAsync(request.Body);
            var name = body?["model"]?.GetValue<string>() ?? "";
            if (Model(name) is null) return Results.NotFound(new { error = $"model \"{name}\" not found, try pulling it first" });
            var last = (body?["messages"] as JsonArray)?.LastOrDefault()?["content"]?.GetValue<string>() ?? "";
            var reply = new { model = name, created_at = DateTime.UtcNow, message = new { role = "assistant", content = $"stub reply to: {last}" }, done = true, done_reason = "stop" };
            var stream = body?["stream"]?.GetValue<bool>() ?? true;
            if (!stream) return Results.Json(reply);
            response.ContentType = "application/x-ndjson";
            await response.WriteAsync(JsonSerializer.Serialize(reply) + "\n");
            return Results.Empty;
        });
        app.MapGet("/", () => "Ollama is running");
        app.MapGet("/api/version", () => Results.Json(new { version = "0.0.0-stub" }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
