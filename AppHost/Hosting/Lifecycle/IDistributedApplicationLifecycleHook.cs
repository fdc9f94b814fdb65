// Our own AppHost engine, following .NET Aspire's lifecycle hooks (Aspire.Hosting.Lifecycle): code that runs inside the
// AppHost at a point of the application's life. We need one point: every resource has started and is healthy (run mode
// only; publishers never call hooks). A hook is a client of the running resources, like a user would be.

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTune.AppHost.Hosting.Lifecycle;

public interface IDistributedApplicationLifecycleHook
{
    /// <summary>
    /// Called once, after every resource is running and healthy, on its own task: the AppHost keeps serving while it runs,
    /// and <paramref name="cancellationToken"/> fires when the AppHost stops (Ctrl+C, SIGTERM, a fatal resource failure).
    /// An exception is reported on the console and ends only the hook.
    /// </summary>
    Task AfterResourcesStartedAsync(ResourcesStartedContext context, CancellationToken cancellationToken);
}

/// <param name="Model">The app model.</param>
/// <param name="Values">Allocated endpoints and resolved parameters of this run.</param>
/// <param name="Resources">Live resource states.</param>
/// <param name="DashboardUrl">The dashboard's browser URL with its login token, when one runs.</param>
/// <param name="Output">The AppHost's console.</param>
public sealed record ResourcesStartedContext(DistributedApplicationModel Model, RunValues Values, IResourceStateSource Resources,
    string? DashboardUrl, TextWriter Output);

public static class LifecycleHookServiceCollectionExtensions
{
    /// <summary>Registers a hook (Aspire: services.AddLifecycleHook&lt;T&gt;()).</summary>
    public static IServiceCollection AddLifecycleHook<T>(this IServiceCollection services) where T : class, IDistributedApplicationLifecycleHook
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IDistributedApplicationLifecycleHook, T>());
        return services;
    }
}
