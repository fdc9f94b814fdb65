// Our own AppHost engine: the environment Aspire's AppHost gives a project in run mode (reference/aspire.md §3),
// so a service behaves the same under real Aspire, under this AppHost, or in Kubernetes.

namespace FineTune.AppHost.Hosting.Runner;

/// <summary>Where services send telemetry: OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS.</summary>
public sealed record OtlpSettings(string Endpoint, string Protocol, string? ApiKey)
{
    public const string DefaultEndpoint = "http://localhost:18889";

    /// <summary>ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL (grpc), else ..._HTTP_ENDPOINT_URL (http/protobuf), else localhost:18889 grpc.</summary>
    public static OtlpSettings FromConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var apiKey = configuration["AppHost:OtlpApiKey"];
        var grpc = configuration["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_ENDPOINT_URL"];
        if (!string.IsNullOrWhiteSpace(grpc))
            return new(grpc, "grpc", apiKey);
        var http = configuration["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] ?? configuration["DOTNET_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"];
        if (!string.IsNullOrWhiteSpace(http))
            return new(http, "http/protobuf", apiKey);
        return new(DefaultEndpoint, "grpc", apiKey);
    }
}

internal static class AspireEnvironment
{
    /// <summary>Variables of the AppHost's own environment that must not leak into children (they would mislead them).</summary>
    private static readonly string[] NotInherited = ["ASPIRE_", "DOTNET_DASHBOARD_", "OTEL_", "ConnectionStrings__", "services__", "Parameters__", "AppHost__", "Publishing__", "ASPNETCORE_URLS", "HTTP_PORTS", "HTTPS_PORTS"];

    public static Dictionary<string, string?> ForProject(ProjectResource project, int instance, string instanceId, RunContext context)
    {
        var env = Scrubbed();
        var values = context.Values;

        var urls = project.Annotations.OfKind<EndpointAnnotation>()
            .Where(e => e.Scheme is "http" or "https")
            .Select(e => $"{e.Scheme}://localhost:{values.Endpoint(project, e.Name, instance).TargetPort}");
        env["ASPNETCORE_URLS"] = string.Join(';', urls);
        env["ASPNETCORE_ENVIRONMENT"] = context.EnvironmentName;
        env["DOTNET_ENVIRONMENT"] = context.EnvironmentName;

        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = context.Otlp.Endpoint;
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = context.Otlp.Protocol;
        if (context.Otlp.ApiKey is not null)
            env["OTEL_EXPORTER_OTLP_HEADERS"] = $"x-otlp-api-key={context.Otlp.ApiKey}";
        env["OTEL_SERVICE_NAME"] = project.Name;
        env["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId}";
        env["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"] = "in_memory";
        env["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES"] = "true";
        env["OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EVENT_LOG_ATTRIBUTES"] = "true";
        if (context.IsDevelopment)
        {
            env["OTEL_BLRP_SCHEDULE_DELAY"] = "1000";
            env["OTEL_BSP_SCHEDULE_DELAY"] = "1000";
            env["OTEL_METRIC_EXPORT_INTERVAL"] = "1000";
            env["OTEL_TRACES_SAMPLER"] = "always_on";
            env["OTEL_METRICS_EXEMPLAR_FILTER"] = "trace_based";
            env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "true";
            env["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true";
            env["OTEL_DOTNET_EXPERIMENTAL_HTTPCLIENT_DISABLE_URL_QUERY_REDACTION"] = "true";
        }
        env["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"] = "true";
        env["LOGGING__CONSOLE__FORMATTERNAME"] = "simple";

        AddReferences(project, env, context);
        AddSharedVolumes(project, env, context);
        foreach (var annotation in project.Annotations.OfKind<EnvironmentAnnotation>())
            env[annotation.Name] = annotation.Value.GetValue(values);
        return env;
    }

    /// <summary>An executable or container: only what the app model says (its own env, references, shared volumes).</summary>
    public static Dictionary<string, string?> ForOther(IResource resource, RunContext context)
    {
        var env = Scrubbed();
        AddReferences(resource, env, context);
        AddSharedVolumes(resource, env, context);
        foreach (var annotation in resource.Annotations.OfKind<EnvironmentAnnotation>())
            env[annotation.Name] = annotation.Value.GetValue(context.Values);
        return env;
    }

    /// <summary>ConnectionStrings__&lt;name&gt; for a source with a connection string, else services__&lt;name&gt;__&lt;endpoint&gt;__&lt;i&gt; per instance.</summary>
    public static void AddReferences(IResource resource, IDictionary<string, string?> env, RunContext context)
    {
        foreach (var source in resource.Annotations.OfKind<ReferenceAnnotation>().Select(r => r.Source).Distinct())
        {
            if (context.IsUnavailable(source))
                continue;
            if (source is IResourceWithConnectionString withConnectionString)
            {
                env[$"ConnectionStrings__{source.Name}"] = withConnectionString.ConnectionStringExpression.GetValue(context.Values);
                continue;
            }
            foreach (var endpoint in source.Annotations.OfKind<EndpointAnnotation>())
            {
                var instances = context.Values.Endpoints(source, endpoint.Name);
                for (var i = 0; i < instances.Count; i++)
                    env[$"services__{source.Name}__{endpoint.Name}__{i}"] = instances[i].Url;
            }
        }
    }

    private static void AddSharedVolumes(IResource resource, IDictionary<string, string?> env, RunContext context)
    {
        foreach (var shared in resource.Annotations.OfKind<SharedVolumeAnnotation>())
            env[shared.EnvironmentVariable] = context.SharedVolumePath(shared.Volume);
    }

    private static Dictionary<string, string?> Scrubbed()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (NotInherited.Any(prefix => name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                env[name] = null; // removed from the child's environment
        }
        return env;
    }
}
