using FineTune.AppHost.Hosting;
using FineTune.AppHost.Hosting.Lifecycle;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FineTune.AppHost.Demo;

public static class DemoJobExtensions
{
    /// <summary>
    /// The embedded default job: once every resource is healthy, the AppHost (as the front door's first client) submits the
    /// demo job to <paramref name="frontDoor"/>'s Jobs API when its job store is empty, follows it on the console and prints
    /// the before/after table. Off with <c>--no-demo</c> or <c>FineTune:Demo:Enabled=false</c>. Run mode only.
    /// </summary>
    public static IDistributedApplicationBuilder AddDemoJob(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> frontDoor)
    {
        var options = new DemoJobOptions();
        builder.Configuration.GetSection(DemoJobOptions.Section).Bind(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(new DemoJobTarget(frontDoor.Resource));
        builder.Services.AddLifecycleHook<DemoJobClient>();
        return builder;
    }
}

/// <summary>The resource whose Jobs API the demo client calls.</summary>
public sealed record DemoJobTarget(ProjectResource FrontDoor);
