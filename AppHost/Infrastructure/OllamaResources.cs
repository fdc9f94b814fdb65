// Hand-written: Aspire 13.6 ships no Ollama hosting integration on this feed (CommunityToolkit.Aspire.Hosting.Ollama is
// not served). These follow its conventions: one "http" endpoint (target port 11434), connection string
// "Endpoint=http://host:port", models in a volume at /root/.ollama.

namespace FineTune.AppHost.Infrastructure;

public static class OllamaDefaults
{
    public const string Image = "ollama/ollama";
    public const string Registry = "docker.io";
    public const string Tag = "0.32.15";
    public const int Port = 11434;
    public const string ModelsTarget = "/root/.ollama";
    public const string EndpointName = "http";

    /// <summary>Configuration key of an Ollama that already runs elsewhere, e.g. http://gpu-box:11434.</summary>
    public const string EndpointConfigKey = "Ollama:Endpoint";
}

/// <summary>Ollama as a container (publish mode, or run mode where a container runtime answers).</summary>
public sealed class OllamaResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, OllamaDefaults.EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"Endpoint={PrimaryEndpoint.Property(EndpointProperty.Url)}");
}

/// <summary>Ollama as <c>ollama serve</c> from PATH (run mode, no container runtime).</summary>
public sealed class OllamaExecutableResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, OllamaDefaults.EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"Endpoint={PrimaryEndpoint.Property(EndpointProperty.Url)}");
}

/// <summary>An Ollama that runs elsewhere (<see cref="OllamaDefaults.EndpointConfigKey"/>): no process, just its connection string.</summary>
public sealed class ExternalOllamaResource(string name, Uri endpoint) : Resource(name), IResourceWithConnectionString
{
    public Uri Endpoint { get; } = endpoint;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"Endpoint={Endpoint.ToString().TrimEnd('/')}");
}

/// <summary>No Ollama here: a resource whose dashboard state says why, so the rest runs and export skips registration.</summary>
public sealed class UnavailableOllamaResource(string name, string reason) : Resource(name)
{
    public string Reason { get; } = reason;
}
