// Our own AppHost engine, following .NET Aspire's conventions. How a container resource runs locally when that is a choice: as the
// container (a Docker engine answers), as a local process (redis-server, ollama serve), as an external endpoint from
// configuration, or not at all (with the reason). Redis and Ollama each supply theirs in their own folder.

using Microsoft.Extensions.Configuration;

namespace FineTune.AppHost.Hosting;

public sealed record RunModeLaunchAnnotation(Func<RunModeLaunchContext, RunModeLaunch> Choose) : IResourceAnnotation;

public sealed record RunModeLaunchContext(
    IResource Resource,
    bool ContainerEngineAvailable,
    IConfiguration Configuration,
    string StateDirectory,
    Func<string, string?> FindOnPath);

public abstract record RunModeLaunch
{
    /// <summary>docker run the resource's image, with its args, env, volumes and a host port per endpoint.</summary>
    public sealed record Container : RunModeLaunch;

    /// <summary>Run a local program; it listens on the allocated port itself (TargetPort = Port).</summary>
    public sealed record Process(
        string Command,
        IReadOnlyList<ReferenceExpression> Args,
        string WorkingDirectory,
        IReadOnlyDictionary<string, ReferenceExpression> Environment,
        string Description) : RunModeLaunch;

    /// <summary>Nothing to start: the endpoints point at a service that already runs elsewhere.</summary>
    public sealed record External(Uri Url) : RunModeLaunch;

    /// <summary>Cannot run here. Fatal stops the AppHost; otherwise the resource shows as unavailable and dependants go on without it.</summary>
    public sealed record Unavailable(string Reason, bool Fatal) : RunModeLaunch;
}
