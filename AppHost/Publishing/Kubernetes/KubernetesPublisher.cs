using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// --publisher kubernetes --output-path &lt;folder&gt;: writes a kustomize folder for the app model (see
/// docs/deploy.md). Cluster settings come from the command line or configuration section Publishing:Kubernetes:
/// --k8s-namespace, --image-registry, --image-tag, --storage-class, --data-volume-size, --otlp-endpoint,
/// --autoscaler keda|hpa|none.
/// </summary>
public static class KubernetesPublisher
{
    public const string Name = "kubernetes";

    /// <summary>
    /// Writes the folder once the app model is complete (BeforeStartEvent, which publish mode raises too), then stops the
    /// AppHost: Aspire 13.6 would otherwise go on to its own publish step, which knows no "kubernetes" publisher.
    /// </summary>
    internal static void Register(IDistributedApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var appHostDirectory = builder.AppHostDirectory;
        builder.Eventing.Subscribe<BeforeStartEvent>(async (e, cancellationToken) =>
        {
            var outputPath = configuration["Pipeline:OutputPath"] ?? configuration["Publishing:OutputPath"]
                ?? throw new DistributedApplicationException("--publisher kubernetes needs --output-path <folder>.");
            var folder = Path.GetFullPath(outputPath, appHostDirectory);
            await PublishAsync(e.Model, e.Services.GetRequiredService<DistributedApplicationExecutionContext>(), configuration, folder, cancellationToken);
            Console.Out.WriteLine($"kubernetes: wrote {folder}");
            e.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        });
    }

    public static async Task PublishAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext,
        IConfiguration configuration, string outputPath, CancellationToken cancellationToken)
    {
        var options = ReadOptions(configuration);
        var manifest = await AspireManifest.WriteAsync(model, executionContext, outputPath, cancellationToken);
        var description = AppModelToDeployment.Map(model, manifest, options);
        var data = model.Resources.SelectMany(r => r.Annotations.OfType<Infrastructure.SharedDataAnnotation>()).Select(a => a.Data).FirstOrDefault();
        KubernetesManifestWriter.Write(outputPath, description, options, data is null ? "" : AppModelToDeployment.SharedClaimName(data));
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
