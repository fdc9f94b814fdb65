// Our own AppHost engine, following .NET Aspire's conventions: AddProject(name, path) for a .NET project with an
// "http" endpoint and the ServiceDefaults health check (GET /health) as its readiness probe.

namespace FineTune.AppHost.Hosting;

public static class ProjectResourceExtensions
{
    /// <param name="projectPath">The .csproj, relative to the AppHost project folder.</param>
    public static IResourceBuilder<ProjectResource> AddProject(this IDistributedApplicationBuilder builder, string name, string projectPath)
    {
        var fullPath = Path.GetFullPath(projectPath, builder.AppHostDirectory);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"{name}: project file not found: {fullPath}", fullPath);
        return builder.AddResource(new ProjectResource(name, fullPath))
            .WithHttpEndpoint()
            .WithHealthProbe(new HttpHealthProbe("http", "/health"));
    }
}
