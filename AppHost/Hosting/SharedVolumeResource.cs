// Our own AppHost engine, following .NET Aspire's conventions. A folder every service shares (datasets, shards, checkpoints,
// artifacts). Locally: <state>/<name> on disk. In Kubernetes: one ReadWriteMany volume mounted at MountPath.
// It has no manifest type (Aspire has none for shared volumes); the manifest gives each user its MountPath.

namespace FineTune.AppHost.Hosting;

public sealed class SharedVolumeResource(string name, string mountPath) : Resource(name)
{
    /// <summary>Where containers and pods mount it.</summary>
    public string MountPath { get; } = mountPath;
}
