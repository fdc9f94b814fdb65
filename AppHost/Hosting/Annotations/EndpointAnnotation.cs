// Our own AppHost engine, following .NET Aspire's conventions. An endpoint a resource listens on. In run mode the runner gives every
// instance its own free port unless Port is fixed; in the manifest it becomes a "bindings" entry.

namespace FineTune.AppHost.Hosting;

/// <param name="Name">Binding name: "http" for HTTP endpoints, "tcp" for Redis.</param>
/// <param name="Scheme">http, https, tcp or udp (the values both manifest schemas accept).</param>
/// <param name="TargetPort">The port the workload listens on inside its container or pod; null lets the runner choose.</param>
/// <param name="Port">A fixed host port in run mode (a single instance only); null for a free one.</param>
/// <param name="Transport">http, http2 or tcp.</param>
/// <param name="IsExternal">Reachable from outside the application (manifest "external": true).</param>
public sealed record EndpointAnnotation(
    string Name,
    string Scheme,
    int? TargetPort = null,
    int? Port = null,
    string Transport = "http",
    bool IsExternal = false) : IResourceAnnotation
{
    public string Protocol => Scheme == "udp" ? "udp" : "tcp";
}
