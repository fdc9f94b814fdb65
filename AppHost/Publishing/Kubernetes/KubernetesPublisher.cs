using FineTune.AppHost.Hosting;
using Microsoft.Extensions.Configuration;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// --publisher kubernetes --output-path &lt;folder&gt;: writes a kustomize folder for the app model (see
/// docs/deploy.md). Cluster settings come from the command line or configuration section Publishing:Kubernetes:
/// --k8s-namespace, --image-registry, --image-tag, --storage-class, --data-volume-size, --otlp-endpoint,
/// --autoscaler keda|hpa|none.
/// </summary>
public sealed class KubernetesPublisher(IConfiguration configuration) : IDistributedApplicationPublisher
{
    public const string Name = "kubernetes";

    public Task PublishAsync(DistributedApplicationModel model, string outputPath, CancellationToken cancellationToken)
    {
        var options = ReadOptions(configuration);
        var description = AppModelToDeployment.Map(model, options);
        var dataVolume = model.Resources.OfType<SharedVolumeResource>().FirstOrDefault();
        KubernetesManifestWriter.Write(outputPath, description, options,
            dataVolume is null ? "" : AppModelToDeployment.SharedClaimName(dataVolume));
        return Task.CompletedTask;
    }

    /// <summary>Options from flags (--image-tag v1) or the section (Publishing:Kubernetes:ImageTag); flags win.</summary>
    public static KubernetesPublishOptions ReadOptions(IConfiguration configuration)
    {
        var section = configuration.GetSection("Publishing:Kubernetes");
        string? Get(string flag, string key) => configuration[flag] ?? section[key];
        var options = new KubernetesPublishOptions();
        if (Get("k8s-namespace", nameof(options.Namespace)) is { } ns) options.Namespace = ns;
        if (Get("image-registry", nameof(options.ImageRegistry)) is { } registry) options.ImageRegistry = registry;
        if (Get("image-tag", nameof(options.ImageTag)) is { } tag) options.ImageTag = tag;
        if (Get("storage-class", nameof(options.StorageClass)) is { } storageClass) options.StorageClass = storageClass;
        if (Get("data-volume-size", nameof(options.DataVolumeSize)) is { } size) options.DataVolumeSize = size;
        if (Get("otlp-endpoint", nameof(options.OtlpEndpoint)) is { } otlp) options.OtlpEndpoint = otlp;
        if (Get("autoscaler", nameof(options.Autoscaler)) is { } autoscaler)
        {
            options.Autoscaler = Enum.TryParse<AutoscalerKind>(autoscaler, ignoreCase: true, out var kind)
                ? kind
                : throw new InvalidOperationException($"--autoscaler '{autoscaler}' is not one of keda, hpa, none.");
        }
        return options;
    }
}
