namespace FineTune.AppHost.Infrastructure;

/// <summary>How every service is reached and checked: one "http" endpoint and the ServiceDefaults' /health.</summary>
public static class ServiceEndpoints
{
    /// <summary>Configuration key of the front door's port in run mode (default 5080; 0 = any free port).</summary>
    public const string FrontDoorPortKey = "FineTune:FrontDoorPort";
    public const int DefaultFrontDoorPort = 5080;

    public static IResourceBuilder<ProjectResource> WithServiceEndpoint(this IResourceBuilder<ProjectResource> project) =>
        project.WithHttpEndpoint(name: "http").WithHttpHealthCheck("/health");

    /// <summary>The front door (the Jobs API): http://localhost:5080 in run mode, so `ft` and curl find it without a lookup.</summary>
    public static IResourceBuilder<ProjectResource> WithFrontDoorEndpoint(this IResourceBuilder<ProjectResource> project)
    {
        var builder = project.ApplicationBuilder;
        int? port = null;
        if (builder.ExecutionContext.IsRunMode)
        {
            var configured = builder.Configuration[FrontDoorPortKey];
            if (string.IsNullOrWhiteSpace(configured)) port = DefaultFrontDoorPort;
            else if (int.TryParse(configured, out var p) && p is >= 0 and <= 65535) port = p == 0 ? null : p;
            else throw new DistributedApplicationException($"{FrontDoorPortKey} '{configured}' is not a port number (0–65535; 0 = any free port).");
        }
        return project.WithHttpEndpoint(port: port, name: "http").WithHttpHealthCheck("/health")
            .WithUrlForEndpoint("http", url => url.DisplayText = "Jobs API (front door)");
    }
}
