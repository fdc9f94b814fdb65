using System.Text.RegularExpressions;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>App-model calls for what only a Kubernetes deployment can express. Each adds an annotation; bad values throw at once.</summary>
public static partial class KubernetesResourceBuilderExtensions
{
    /// <summary>
    /// Registers the "kubernetes" publisher: --publisher kubernetes --output-path &lt;folder&gt; writes our kustomize folder
    /// from the real app model (Aspire.Hosting.Kubernetes is not served on this feed). Publish mode only.
    /// </summary>
    public static IDistributedApplicationBuilder AddKubernetesPublisher(this IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode && builder.ExecutionContext.PublisherName == KubernetesPublisher.Name)
            KubernetesPublisher.Register(builder);
        return builder;
    }

    /// <summary>Request <paramref name="count"/> NVIDIA GPUs per replica (nvidia.com/gpu limits).</summary>
    public static IResourceBuilder<T> WithGpu<T>(this IResourceBuilder<T> builder, int count = 1) where T : IResource
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return builder.WithAnnotation(new GpuAnnotation(count));
    }

    /// <summary>
    /// Scale the workload between <paramref name="minReplicas"/> and <paramref name="maxReplicas"/> on the lag of
    /// <paramref name="consumerGroup"/> on <paramref name="stream"/> (Redis from the resource's references).
    /// </summary>
    public static IResourceBuilder<T> WithAutoscaling<T>(this IResourceBuilder<T> builder, int minReplicas, int maxReplicas,
        string stream, string consumerGroup, int lagPerReplica = 1) where T : IResource
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minReplicas);
        if (maxReplicas < Math.Max(1, minReplicas))
            throw new ArgumentOutOfRangeException(nameof(maxReplicas), maxReplicas, $"{builder.Resource.Name}: maxReplicas must be at least 1 and at least minReplicas ({minReplicas}).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lagPerReplica);
        ArgumentException.ThrowIfNullOrWhiteSpace(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(consumerGroup);
        return builder.WithAnnotation(new AutoscalingAnnotation(minReplicas, maxReplicas, stream, consumerGroup, lagPerReplica));
    }

    /// <summary>Time between SIGTERM and SIGKILL (whole seconds): long enough to write a checkpoint.</summary>
    public static IResourceBuilder<T> WithTerminationGracePeriod<T>(this IResourceBuilder<T> builder, TimeSpan period) where T : IResource
    {
        if (period < TimeSpan.Zero || period.TotalSeconds != Math.Floor(period.TotalSeconds))
            throw new ArgumentOutOfRangeException(nameof(period), period, $"{builder.Resource.Name}: the termination grace period is a non-negative whole number of seconds.");
        return builder.WithAnnotation(new TerminationGracePeriodAnnotation(period));
    }

    /// <summary>Tolerate a node taint (operator Exists when <paramref name="value"/> is null).</summary>
    public static IResourceBuilder<T> WithToleration<T>(this IResourceBuilder<T> builder, string key, string? value = null, string effect = "NoSchedule") where T : IResource
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        if (effect is not ("NoSchedule" or "PreferNoSchedule" or "NoExecute"))
            throw new ArgumentException($"{builder.Resource.Name}: toleration effect '{effect}' is not NoSchedule, PreferNoSchedule or NoExecute.", nameof(effect));
        return builder.WithAnnotation(new TolerationAnnotation(key, value, effect));
    }

    /// <summary>Run only on nodes with label <paramref name="key"/>=<paramref name="value"/>.</summary>
    public static IResourceBuilder<T> WithNodeSelector<T>(this IResourceBuilder<T> builder, string key, string value) where T : IResource
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        return builder.WithAnnotation(new NodeSelectorAnnotation(key, value));
    }

    /// <summary>CPU/memory requests and limits per replica, as Kubernetes quantities ("500m", "2", "512Mi", "8Gi").</summary>
    public static IResourceBuilder<T> WithComputeResources<T>(this IResourceBuilder<T> builder,
        string? cpuRequest = null, string? memoryRequest = null, string? cpuLimit = null, string? memoryLimit = null) where T : IResource
    {
        foreach (var (name, value) in new[] { (nameof(cpuRequest), cpuRequest), (nameof(memoryRequest), memoryRequest), (nameof(cpuLimit), cpuLimit), (nameof(memoryLimit), memoryLimit) })
            if (value is not null && !Quantity().IsMatch(value))
                throw new ArgumentException($"{builder.Resource.Name}: {name} '{value}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 8Gi).", name);
        return builder.WithAnnotation(new ComputeResourcesAnnotation(cpuRequest, memoryRequest, cpuLimit, memoryLimit));
    }

    /// <summary>Size and storage class of the claims for this resource's volumes (or of this shared volume).</summary>
    public static IResourceBuilder<T> WithVolumeClaim<T>(this IResourceBuilder<T> builder, string size, string? storageClass = null) where T : IResource
    {
        if (!Quantity().IsMatch(size))
            throw new ArgumentException($"{builder.Resource.Name}: volume size '{size}' is not a Kubernetes quantity (e.g. 20Gi).", nameof(size));
        return builder.WithAnnotation(new VolumeClaimAnnotation(size, storageClass));
    }

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    private static partial Regex Quantity();
}
