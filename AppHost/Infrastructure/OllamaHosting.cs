using Microsoft.Extensions.DependencyInjection;

namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// Where models are registered after export. In order: a container (publish mode, or a container runtime answers); else
/// <c>ollama serve</c> from PATH; else the endpoint in configuration (Ollama:Endpoint); else a resource that shows why
/// Ollama is unavailable, and the export service starts without ConnectionStrings__ollama (it then skips registration and
/// says how to register by hand).
/// </summary>
public static class OllamaHosting
{
    public static IResourceBuilder<IResource> AddOllama(this IDistributedApplicationBuilder builder, string name)
    {
        var configured = builder.Configuration[OllamaDefaults.EndpointConfigKey];
        if (builder.ExecutionContext.IsRunMode && !string.IsNullOrWhiteSpace(configured))
        {
            if (!Uri.TryCreate(configured, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw new DistributedApplicationException($"{OllamaDefaults.EndpointConfigKey} '{configured}' is not an absolute http(s) URL.");
            Log(builder, $"{name}: the configured endpoint {url}");
            return builder.AddResource(new ExternalOllamaResource(name, url))
                .WithInitialState(State("External", url.ToString()))
                .WithUrl(url.ToString(), "ollama")
                .ExcludeFromManifest();
        }
        if (ContainerRuntime.CanRunContainers(builder))
        {
            Log(builder, $"{name}: the {OllamaDefaults.Image} container");
            return builder.AddResource(new OllamaResource(name))
                .WithImage(OllamaDefaults.Image, OllamaDefaults.Tag).WithImageRegistry(OllamaDefaults.Registry)
                .WithHttpEndpoint(targetPort: OllamaDefaults.Port, name: OllamaDefaults.EndpointName)
                .WithVolume($"finetune-{name}-models", OllamaDefaults.ModelsTarget)
                .WithHttpHealthCheck("/");
        }
        if (ContainerRuntime.FindOnPath("ollama") is { } ollama)
        {
            Log(builder, $"{name}: no container runtime answers, so Ollama runs as '{ollama} serve'");
            var resource = new OllamaExecutableResource(name, ollama, AppHostState.Directory(builder));
            return builder.AddResource(resource)
                .WithArgs("serve")
                .WithHttpEndpoint(name: OllamaDefaults.EndpointName, env: null)
                .WithEnvironment(context => context.EnvironmentVariables["OLLAMA_HOST"] =
                    ReferenceExpression.Create($"127.0.0.1:{resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort)}"))
                .WithHttpHealthCheck("/")
                .ExcludeFromManifest();
        }
        var reason = $"no container runtime answers, 'ollama' is not on PATH and {OllamaDefaults.EndpointConfigKey} is not set; "
            + "models will not be registered with Ollama (install it from https://ollama.com, or set Ollama__Endpoint)";
        Log(builder, $"{name}: unavailable: {reason}");
        return builder.AddResource(new UnavailableOllamaResource(name, reason))
            .WithInitialState(State("Unavailable", reason, KnownResourceStateStyles.Warn))
            .ExcludeFromManifest();
    }

    /// <summary>References Ollama when it has a connection string (and waits for it when it is a process); else nothing: the service skips registration.</summary>
    public static IResourceBuilder<ProjectResource> WithOllama(this IResourceBuilder<ProjectResource> project, IResourceBuilder<IResource> ollama)
    {
        if (ollama.Resource is not IResourceWithConnectionString withConnectionString) return project;
        project.WithReference(project.ApplicationBuilder.CreateResourceBuilder(withConnectionString));
        return ollama.Resource is ExternalOllamaResource ? project : project.WaitFor(ollama);
    }

    private static CustomResourceSnapshot State(string state, string detail, string? style = null) => new()
    {
        ResourceType = "Ollama",
        State = new ResourceStateSnapshot(state, style ?? KnownResourceStateStyles.Info),
        Properties = [new ResourcePropertySnapshot("Detail", detail)],
    };

    private static void Log(IDistributedApplicationBuilder builder, string message) =>
        builder.Services.AddSingleton(new InfrastructureChoice(message));
}
