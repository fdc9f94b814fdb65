// Our own AppHost engine, following CommunityToolkit.Aspire.Hosting.Ollama's conventions: AddOllama(name).
// Locally, in this order: the endpoint in configuration (Ollama:Endpoint) when set; the ollama/ollama container when a
// Docker engine answers; "ollama serve" when ollama is on PATH; otherwise the resource is unavailable, with the
// reason, and everything else still runs (dependants are started without ConnectionStrings__<name>).

namespace FineTune.AppHost.Hosting;

public static class OllamaBuilderExtensions
{
    public static IResourceBuilder<OllamaResource> AddOllama(this IDistributedApplicationBuilder builder, string name)
    {
        var ollama = new OllamaResource(name);
        return builder.AddResource(ollama)
            .WithHttpEndpoint(targetPort: OllamaDefaults.Port)
            .WithHealthProbe(new HttpHealthProbe(OllamaResource.EndpointName, "/"))
            .WithAnnotation(new RunModeLaunchAnnotation(context => ChooseLaunch(ollama, context)));
    }

    /// <summary>Keeps pulled models in a named volume at /root/.ollama.</summary>
    public static IResourceBuilder<OllamaResource> WithDataVolume(this IResourceBuilder<OllamaResource> builder, string? name = null) =>
        builder.WithVolume(name ?? $"finetune-{builder.Resource.Name}-models", OllamaDefaults.ModelsTarget);

    private static RunModeLaunch ChooseLaunch(OllamaResource ollama, RunModeLaunchContext context)
    {
        var configured = context.Configuration[OllamaDefaults.EndpointConfigKey];
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Uri.TryCreate(configured, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"
                ? new RunModeLaunch.External(url)
                : new RunModeLaunch.Unavailable($"{OllamaDefaults.EndpointConfigKey} '{configured}' is not an absolute http(s) URL", Fatal: true);
        }
        if (context.ContainerEngineAvailable)
            return new RunModeLaunch.Container();
        var executable = context.FindOnPath("ollama");
        if (executable is not null)
        {
            var host = ReferenceExpression.Create($"127.0.0.1:{ollama.PrimaryEndpoint.Property(EndpointProperty.TargetPort)}");
            return new RunModeLaunch.Process(executable, [ReferenceExpression.Literal("serve")], context.StateDirectory,
                new Dictionary<string, ReferenceExpression> { ["OLLAMA_HOST"] = host }, "ollama serve");
        }
        return new RunModeLaunch.Unavailable(
            $"no Docker engine answers, 'ollama' is not on PATH and {OllamaDefaults.EndpointConfigKey} is not set; "
            + "models will not be registered with Ollama (install it from https://ollama.com, or set Ollama__Endpoint)",
            Fatal: false);
    }
}
