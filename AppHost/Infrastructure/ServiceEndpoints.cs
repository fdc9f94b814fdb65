namespace FineTune.AppHost.Infrastructure;

/// <summary>How every service is reached and checked: one "http" endpoint and the ServiceDefaults' /health.</summary>
public static class ServiceEndpoints
{
    /// <summary>Configuration key of the front door's port in run mode (default 5080; 0 = any free port).</summary>
    public const string FrontDoorPortKey = "FineTune:FrontDoorPort";
    public const int DefaultFrontDoorPort = 5080;

    public static IResourceBuilder<ProjectResource> WithServiceEndpoint(this IResourceBuilder<ProjectResource> project) =>
        project.WithHttpEndpoint(name: "http").WithHttpHealthCheck("/health");

    /// <summary>Run mode: model-generation spans carry their prompts and completions (the dashboard's GenAI view shows them).</summary>
    public static IResourceBuilder<ProjectResource> WithGenAiContentCapture(this IResourceBuilder<ProjectResource> project) =>
        project.ApplicationBuilder.ExecutionContext.IsRunMode
            ? project.WithEnvironment("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
            : project;

    /// <summary>Configuration key of the chat endpoint's port in run mode (default 5081; 0 = any free port).</summary>
    public const string InferencePortKey = "FineTune:InferencePort";
    public const int DefaultInferencePort = 5081;

    /// <summary>The OpenAI-compatible chat endpoint: http://localhost:5081/v1 in run mode, so curl and OpenAI clients find it.</summary>
    public static IResourceBuilder<ProjectResource> WithInferenceEndpoint(this IResourceBuilder<ProjectResource> project) =>
        project.WithHttpEndpoint(port: RunModePort(project.ApplicationBuilder, InferencePortKey, DefaultInferencePort), name: "http")
            .WithHttpHealthCheck("/health")
            .WithUrlForEndpoint("http", url => url.DisplayText = "OpenAI API (/v1)");

    /// <summary>The front door (the Jobs API): http://localhost:5080 in run mode, so `ft` and curl find it without a lookup.</summary>
    public static IResourceBuilder<ProjectResource> WithFrontDoorEndpoint(this IResourceBuilder<ProjectResource> project)
    {
        var port = RunModePort(project.ApplicationBuilder, FrontDoorPortKey, DefaultFrontDoorPort);
        return project.WithHttpEndpoint(port: port, name: "http").WithHttpHealthCheck("/health")
            .WithUrlForEndpoint("http", url => url.DisplayText = "Jobs API (front door)");
    }

    /// <summary>The fixed port of a run-mode endpoint: configured, else the default; none (any free port) when 0 or publishing.</summary>
    private static int? RunModePort(IDistributedApplicationBuilder builder, string key, int defaultPort)
    {
        if (!builder.ExecutionContext.IsRunMode) return null;
        var configured = builder.Configuration[key];
        if (string.IsNullOrWhiteSpace(configured)) return defaultPort;
        if (int.TryParse(configured, out var p) && p is >= 0 and <= 65535) return p == 0 ? null : p;
        throw new DistributedApplicationException($"{key} '{configured}' is not a port number (0–65535; 0 = any free port).");
    }
}
