namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// The one folder every service shares (datasets, shards, checkpoints, artifacts), reaching each as FineTune__DataRoot:
/// in run mode &lt;state&gt;/&lt;name&gt; on this disk; in publish mode <see cref="MountPath"/>, where the Kubernetes publisher
/// mounts one ReadWriteMany claim. Aspire has no shared-volume resource, so this is a value plus an annotation.
/// </summary>
public sealed record SharedData(string Name, string LocalPath, string MountPath)
{
    public const string Variable = "FineTune__DataRoot";
}

/// <summary>The resource uses <see cref="SharedData"/> (read by the Kubernetes publisher).</summary>
public sealed record SharedDataAnnotation(SharedData Data) : IResourceAnnotation;

public static class SharedDataExtensions
{
    public static SharedData AddSharedData(this IDistributedApplicationBuilder builder, string name, string mountPath = "/var/lib/finetune/data")
    {
        var local = Path.Combine(AppHostState.Directory(builder), name);
        if (builder.ExecutionContext.IsRunMode) Directory.CreateDirectory(local);
        return new SharedData(name, local, mountPath);
    }

    public static IResourceBuilder<T> WithSharedData<T>(this IResourceBuilder<T> builder, SharedData data) where T : IResourceWithEnvironment =>
        builder.WithEnvironment(SharedData.Variable, builder.ApplicationBuilder.ExecutionContext.IsRunMode ? data.LocalPath : data.MountPath)
            .WithAnnotation(new SharedDataAnnotation(data));
}
