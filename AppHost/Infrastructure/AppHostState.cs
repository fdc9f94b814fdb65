using Microsoft.Extensions.Configuration;

namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// Where run mode keeps local state (the local Redis's files, the shared data folder): &lt;repo&gt;/.ft, or
/// AppHost:StateDirectory. The repository root is the AppHost project's parent folder.
/// </summary>
public static class AppHostState
{
    public static string Directory(IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration["AppHost:StateDirectory"];
        var path = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(builder.AppHostDirectory, "..", ".ft")
            : configured;
        return Path.GetFullPath(path);
    }
}
