using System.Net.ServerSentEvents;
using System.Threading.Channels;
using FineTune.AppHost.Dashboard.Telemetry;
using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>Queries over the received telemetry (structured logs, traces, metrics) and a change feed the pages refetch on.</summary>
public static class TelemetryApi
{
    private static readonly Dictionary<string, int> MinSeverity = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = 1, ["debug"] = 5, ["information"] = 9, ["warning"] = 13, ["error"] = 17, ["critical"] = 21,
    };

    public static RouteGroupBuilder MapTelemetryApi(this RouteGroupBuilder api)
    {
        // Resource names for the pickers: the app model's resources, then any other service that sent telemetry.
        api.MapGet("/services", (IResourceStateSource source, TelemetryStore store) =>
        {
            var names = source.GetResources().Where(r => r.Type != "parameter").Select(r => r.Name).ToList();
            names.AddRange(store.Services().Where(s => !names.Contains(s)));
            return TypedResults.Ok(names);
        });

        api.MapGet("/logs", IResult (string? resource, string? level, string? text, string? traceId, int? limit, TelemetryStore store) =>
        {
            var min = 0;
            if (!string.IsNullOrEmpty(level) && !MinSeverity.TryGetValue(level, out min))
                return TypedResults.Problem($"Unknown level '{level}': use one of {string.Join(", ", MinSeverity.Keys)}.", statusCode: StatusCodes.Status400BadRequest);
            return TypedResults.Ok(store.GetLogs(Blank(resource), min, text, traceId, Math.Clamp(limit ?? 500, 1, 10_000)));
        });

        api.MapGet("/traces", (string? resource, string? text, TelemetryStore store) => TypedResults.Ok(store.GetTraces(Blank(resource), text)));

        api.MapGet("/traces/{traceId}", IResult (string traceId, TelemetryStore store) =>
            store.GetTrace(traceId) is { } spans ? TypedResults.Ok(spans) : TypedResults.Problem($"No trace '{traceId}' (never received, or evicted).", statusCode: 404));

        api.MapGet("/metrics/instruments", (string? resource, TelemetryStore store) => TypedResults.Ok(store.GetInstruments(Blank(resource))));

        api.MapGet("/metrics/resource/{resource}/meter/{meter}/instrument/{instrument}", IResult (string resource, string meter, string instrument, TelemetryStore store) =>
            store.GetMetric(resource, meter, instrument) is { } m
                ? TypedResults.Ok(new { m.Info, m.Series })
                : TypedResults.Problem($"No instrument '{instrument}' of meter '{meter}' from '{resource}'.", statusCode: 404));

        // "logs" / "traces" / "metrics" whenever new telemetry of that kind arrived; bursts coalesce while the page is busy.
        api.MapGet("/telemetry/stream", (TelemetryStore store, IHostApplicationLifetime lifetime, CancellationToken ct) =>
            TypedResults.ServerSentEvents(Changes(store, lifetime.ApplicationStopping, ct)));
        return api;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static async IAsyncEnumerable<SseItem<string>> Changes(TelemetryStore store, CancellationToken stopping,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var channel = Channel.CreateBounded<TelemetryKind>(new BoundedChannelOptions(3) { FullMode = BoundedChannelFullMode.DropWrite });
        void Handler(TelemetryKind kind) => channel.Writer.TryWrite(kind);
        store.Changed += Handler;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping);
        yield return new SseItem<string>("", ServerSentEventStreams.Hello.EventType);
        try
        {
            while (true)
            {
                TelemetryKind kind;
                try
                {
                    kind = await channel.Reader.ReadAsync(cts.Token);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                yield return new SseItem<string>(kind.ToString().ToLowerInvariant(), "changed");
            }
        }
        finally
        {
            store.Changed -= Handler;
        }
    }
}
