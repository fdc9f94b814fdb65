using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FineTune.AppHost.Demo;

public static class DemoJobExtensions
{
    /// <summary>
    /// The embedded default job: once the pipeline's services are healthy, the AppHost (as the front door's first client)
    /// submits the demo job to <paramref name="frontDoor"/>'s Jobs API when its job store is empty, follows it on the console
    /// and prints the before/after table. Off with <c>--no-demo</c> or <c>FineTune:Demo:Enabled=false</c>. Run mode only.
    /// Also adds the front door's dashboard commands (run the demo job, cancel the newest unfinished job).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDemoJob(this IResourceBuilder<ProjectResource> frontDoor, params IResourceBuilder<IResource>[] waitFor)
    {
        var builder = frontDoor.ApplicationBuilder;
        var options = new DemoJobOptions();
        builder.Configuration.GetSection(DemoJobOptions.Section).Bind(options);
        if (builder.ExecutionContext.IsRunMode)
        {
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(new DemoJobTarget(frontDoor.Resource, [.. waitFor.Select(w => w.Resource.Name)]));
            builder.Services.AddSingleton(new DemoConsole(Console.Out));
            builder.Services.AddHostedService<DemoJobClient>();
        }
        WithStudioLinks(frontDoor);
        return frontDoor.WithJobCommands(options);
    }

    /// <summary>
    /// When the app model has a resource named "studio" (the jobs web app), the front door links to its job pages in the
    /// dashboard ("/jobs" on the studio's http endpoint), and the demo's console line links to the job's own page. Without
    /// a studio, no link is added. Decided once the model is complete, so the order in Program.cs does not matter.
    /// </summary>
    private static void WithStudioLinks(IResourceBuilder<ProjectResource> frontDoor)
    {
        frontDoor.ApplicationBuilder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            if (e.Model.Resources.OfType<IResourceWithEndpoints>().FirstOrDefault(r => r.Name == StudioResourceName) is { } studio
                && studio.Annotations.OfType<EndpointAnnotation>().Any(a => a.Name == "http"))
            {
                var jobs = studio.GetEndpoint("http");
                frontDoor.WithUrls(context => context.Urls.Add(new ResourceUrlAnnotation { Url = $"{jobs.Url}/", DisplayText = "Studio: jobs" }));
            }
            return Task.CompletedTask;
        });
    }

    public const string StudioResourceName = "studio";
}

/// <summary>The resource whose Jobs API the demo client calls, and the resources it waits for (healthy) first.</summary>
public sealed record DemoJobTarget(ProjectResource FrontDoor, IReadOnlyList<string> WaitFor);
