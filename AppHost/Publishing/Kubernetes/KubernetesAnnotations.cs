
namespace FineTune.AppHost.Publishing.Kubernetes;

// App-model annotations only the Kubernetes publisher reads (the local runner and the manifest ignore them).
// Set them with the WithGpu/WithAutoscaling/... extensions in KubernetesResourceBuilderExtensions.

/// <summary>The workload needs this many NVIDIA GPUs (nvidia.com/gpu).</summary>
public sealed record GpuAnnotation(int Count) : IResourceAnnotation;

/// <summary>
/// Scale between Min and Max replicas on the lag of a Redis stream's consumer group (KEDA redis-streams trigger), or
/// on CPU when the publisher is told there is no KEDA (--autoscaler hpa).
/// </summary>
/// <param name="LagPerReplica">Target number of waiting entries per replica (KEDA lagCount).</param>
public sealed record AutoscalingAnnotation(int MinReplicas, int MaxReplicas, string Stream, string ConsumerGroup, int LagPerReplica) : IResourceAnnotation;

/// <summary>How long the kubelet waits after SIGTERM before SIGKILL: time to finish a checkpoint.</summary>
public sealed record TerminationGracePeriodAnnotation(TimeSpan Period) : IResourceAnnotation;

/// <summary>A pod toleration; Value null means operator Exists.</summary>
public sealed record TolerationAnnotation(string Key, string? Value, string Effect) : IResourceAnnotation;

/// <summary>One node selector label.</summary>
public sealed record NodeSelectorAnnotation(string Key, string Value) : IResourceAnnotation;

/// <summary>CPU and memory requests and limits, Kubernetes quantities ("500m", "4Gi"); null leaves one unset.</summary>
public sealed record ComputeResourcesAnnotation(string? CpuRequest, string? MemoryRequest, string? CpuLimit, string? MemoryLimit) : IResourceAnnotation;

/// <summary>Size (and storage class) of the claims made for a container's volumes, or of a shared volume.</summary>
public sealed record VolumeClaimAnnotation(string Size, string? StorageClass = null) : IResourceAnnotation;
