using System.Net.ServerSentEvents;
using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>Resources and their console logs, from the runner (IResourceStateSource), plus the start/stop/restart commands.</summary>
public static class ResourcesApi
{
    private static readonly string[] Commands = ["start", "stop", "restart"];

    public static RouteGroupBuilder MapResourcesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/resources", (IResourceStateSource source) => TypedResults.Ok(source.GetResources()));

        // The whole list first, then each change as it happens.
        api.MapGet("/resources/stream", (IResourceStateSource source, IHostApplicationLifetime lifetime, CancellationToken ct) =>
            TypedResults.ServerSentEvents(ResourceEvents(source, lifetime.ApplicationStopping, ct)));

        api.MapPost("/resources/{name}/commands/{command}", async Task<IResult> (string name, string command, IResourceStateSource source, CancellationToken ct) =>
        {
            if (!Commands.Contains(command))
                return TypedResults.Problem($"Unknown command '{command}': use start, stop or restart.", statusCode: StatusCodes.Status400BadRequest);
            if (!source.GetResources().Any(r => r.Name == name))
                return TypedResults.Problem($"No resource named '{name}'.", statusCode: StatusCodes.Status404NotFound);
            await source.ExecuteCommandAsync(name, command, ct);
            return TypedResults.Accepted((string?)null);
        });

        api.MapGet("/consolelogs/{resource}", (string resource, string? instance, IResourceStateSource source) =>
            TypedResults.Ok(source.GetConsoleLogs(resource, string.IsNullOrEmpty(instance) ? null : instance)));

        // Retained lines first, then new ones live.
        api.MapGet("/consolelogs/{resource}/stream", (string resource, string? instance, IResourceStateSource source,
                IHostApplicationLifetime lifetime, CancellationToken ct) =>
            TypedResults.ServerSentEvents(ConsoleEvents(source, resource, string.IsNullOrEmpty(instance) ? null : instance, lifetime.ApplicationStopping, ct)));
        return api;
    }

    private static async IAsyncEnumerable<SseItem<object>> ResourceEvents(IResourceStateSource source, CancellationToken stopping,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var changes = ServerSentEventStreams.FromEvent<ResourceSnapshot>(h => source.ResourceChanged += h, h => source.ResourceChanged -= h, stopping);
        await using var e = changes.GetAsyncEnumerator(ct);
        yield return new SseItem<object>(source.GetResources(), "snapshot");
        while (await e.MoveNextAsync())
            yield return new SseItem<object>(e.Current, "changed");
    }

    private static async IAsyncEnumerable<SseItem<object>> ConsoleEvents(IResourceStateSource source, string resource, string? instance,
        CancellationToken stopping, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        var lines = ServerSentEventStreams.FromEvent<ConsoleLine>(h => source.ConsoleLineWritten += h, h => source.ConsoleLineWritten -= h, stopping, capacity: 10_000);
        await using var e = lines.GetAsyncEnumerator(ct);
        // Subscribe before reading the backlog so no line falls between; skip the ones the backlog already holds.
        var started = e.MoveNextAsync();
        yield return ServerSentEventStreams.Hello; // opens the stream in the browser even when there is nothing to send yet
        var backlog = source.GetConsoleLogs(resource, instance);
        var seen = new HashSet<ConsoleLine>(backlog, ReferenceEqualityComparer.Instance);
        foreach (var line in backlog)
            yield return new SseItem<object>(line, "line");
        while (await started)
        {
            var line = e.Current;
            if (line.Resource == resource && (instance is null || line.InstanceId == instance) && !seen.Contains(line))
                yield return new SseItem<object>(line, "line");
            started = e.MoveNextAsync();
        }
    }
}
