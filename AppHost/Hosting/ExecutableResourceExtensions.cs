// Our own AppHost engine, following .NET Aspire's conventions: AddExecutable(name, command, workingDirectory, args).

namespace FineTune.AppHost.Hosting;

public static class ExecutableResourceExtensions
{
    /// <param name="workingDirectory">Relative to the AppHost project folder.</param>
    public static IResourceBuilder<ExecutableResource> AddExecutable(this IDistributedApplicationBuilder builder, string name,
        string command, string workingDirectory, params string[] args)
    {
        var resource = new ExecutableResource(name, command, Path.GetFullPath(workingDirectory, builder.AppHostDirectory));
        var result = builder.AddResource(resource);
        return args.Length > 0 ? result.WithArgs(args) : result;
    }
}
