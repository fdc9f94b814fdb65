// Our own AppHost engine, following CommunityToolkit.Aspire.Hosting.Ollama's conventions: an Ollama server with one
// "http" endpoint (target port 11434) and the connection string "Endpoint=http://host:port".

namespace FineTune.AppHost.Hosting;

public sealed class OllamaResource(string name) : ContainerResource(name, OllamaDefaults.Image, OllamaDefaults.Tag), IResourceWithConnectionString
{
    public const string EndpointName = "http";

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"Endpoint={PrimaryEndpoint.Url}");
}

public static class OllamaDefaults
{
    public const string Image = "docker.io/ollama/ollama";
    public const string Tag = "0.32.15";
    public const int Port = 11434;
    public const string ModelsTarget = "/root/.ollama";

    /// <summary>Configuration key of an Ollama that already runs elsewhere, e.g. http://gpu-box:11434.</summary>
    public const string EndpointConfigKey = "Ollama:Endpoint";
}
