namespace FineTune.AppHost.Hosting;

// The contract between the local runner (which starts and watches resources) and the dashboard
// (which shows them and sends commands). The runner implements IResourceStateSource; the dashboard consumes it.

/// <summary>What the runner knows about the resources it runs, for the dashboard.</summary>
public interface IResourceStateSource
{
    /// <summary>The current state of every resource, in app-model order.</summary>
    IReadOnlyList<ResourceSnapshot> GetResources();

    /// <summary>Raised after any change of a resource or one of its instances (state, health, restarts, endpoints).</summary>
    event Action<ResourceSnapshot>? ResourceChanged;

    /// <summary>The retained console lines of a resource (all replicas, or one instance), oldest first. Bounded per instance.</summary>
    IReadOnlyList<ConsoleLine> GetConsoleLogs(string resourceName, string? instanceId = null);

    /// <summary>Raised for every console line any process writes (stdout or stderr).</summary>
    event Action<ConsoleLine>? ConsoleLineWritten;

    /// <summary>Runs a resource command: "start", "stop" or "restart" (Aspire's KnownResourceCommands names).</summary>
    Task ExecuteCommandAsync(string resourceName, string command, CancellationToken cancellationToken);
}

/// <summary>One resource of the app model as it runs now. State names follow Aspire's KnownResourceStates.</summary>
/// <param name="Type">project, executable, container or parameter.</param>
/// <param name="State">NotStarted, Waiting, Starting, Running, RuntimeUnhealthy, FailedToStart, Stopping, Exited, Finished.</param>
/// <param name="HealthStatus">Healthy, Unhealthy, or null while no health check has answered.</param>
/// <param name="StateReason">Why it is in that state when that needs saying (e.g. "redis-server not found on PATH").</param>
public sealed record ResourceSnapshot(
    string Name,
    string Type,
    string State,
    string? HealthStatus,
    IReadOnlyList<string> Endpoints,
    IReadOnlyList<InstanceSnapshot> Instances,
    string? StateReason);

/// <summary>One process of a resource (one replica). InstanceId is the service.instance.id it was given.</summary>
public sealed record InstanceSnapshot(
    string InstanceId,
    int? ProcessId,
    string State,
    int Restarts,
    DateTimeOffset? StartedAt,
    string? Endpoint);

public sealed record ConsoleLine(string Resource, string InstanceId, DateTimeOffset Timestamp, bool IsError, string Text);

/// <summary>
/// A dashboard the runner starts before any resource, so that every resource can be given its OTLP endpoint.
/// The embedded one lives in AppHost/Dashboard; without one, services export to the configured endpoint (if any).
/// </summary>
public interface IDashboard : IAsyncDisposable
{
    Task<DashboardEndpoints> StartAsync(IResourceStateSource resources, CancellationToken cancellationToken);
}

/// <param name="BrowserUrl">The URL to print, including the login token (…/login?t=&lt;token&gt;).</param>
/// <param name="OtlpGrpcUrl">OTLP/gRPC endpoint (OTEL_EXPORTER_OTLP_PROTOCOL=grpc).</param>
/// <param name="OtlpHttpUrl">OTLP/HTTP protobuf endpoint.</param>
/// <param name="OtlpApiKey">Value for the x-otlp-api-key header, injected as OTEL_EXPORTER_OTLP_HEADERS; null when unsecured.</param>
public sealed record DashboardEndpoints(string BrowserUrl, string OtlpGrpcUrl, string OtlpHttpUrl, string? OtlpApiKey);
