// Our own AppHost engine: AddSharedVolume(name) declares the one folder the services share (see SharedVolumeResource).

namespace FineTune.AppHost.Hosting;

public static class SharedVolumeExtensions
{
    /// <summary>The configuration key FineTune:DataRoot, as an environment variable.</summary>
    public const string DataRootVariable = "FineTune__DataRoot";

    public static IResourceBuilder<SharedVolumeResource> AddSharedVolume(this IDistributedApplicationBuilder builder, string name,
        string mountPath = "/var/lib/finetune/data") =>
        builder.AddResource(new SharedVolumeResource(name, mountPath));
}
