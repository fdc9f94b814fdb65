// Our own AppHost engine, following .NET Aspire's conventions. How the runner decides that an instance is healthy (WaitFor waits on it).

namespace FineTune.AppHost.Hosting;

public sealed record HealthProbeAnnotation(IHealthProbe Probe) : IResourceAnnotation;

/// <summary>Probes one running instance. Implementations: HTTP GET (projects: /health), Redis PING, TCP connect.</summary>
public interface IHealthProbe
{
    /// <summary>Describes the probe for messages, e.g. "GET /health".</summary>
    string Description { get; }

    Task<HealthProbeResult> ProbeAsync(HealthProbeContext context, CancellationToken cancellationToken);
}

public sealed record HealthProbeContext(IResource Resource, int Instance, RunValues Values)
{
    public AllocatedEndpoint Endpoint(string name) => Values.Endpoint(Resource, name, Instance);
}

public sealed record HealthProbeResult(bool Healthy, string? Reason = null)
{
    public static HealthProbeResult Ok { get; } = new(true);

    public static HealthProbeResult Fail(string reason) => new(false, reason);
}
