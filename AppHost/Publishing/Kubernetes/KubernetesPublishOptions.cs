namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>
/// Settings of the Kubernetes publisher that are about the cluster, not the app (the app model carries replicas,
/// GPUs, scaling and the rest). Command line: --k8s-namespace, --image-registry, --image-tag, --storage-class,
/// --data-volume-size, --otlp-endpoint, --autoscaler keda|hpa|none.
/// </summary>
public sealed class KubernetesPublishOptions
{
    /// <summary>Namespace of every object; a Namespace object is written. Empty: the kubectl context's namespace.</summary>
    public string? Namespace { get; set; } = "finetune";

    /// <summary>Images of the projects are &lt;ImageRegistry&gt;/&lt;resource&gt;:&lt;ImageTag&gt;.</summary>
    public string ImageRegistry { get; set; } = "finetune";

    public string ImageTag { get; set; } = "latest";

    /// <summary>Storage class of the shared ReadWriteMany data volume; null: the cluster default (often ReadWriteOnce only).</summary>
    public string? StorageClass { get; set; }

    /// <summary>Size of the shared data claim unless the app model gives one (WithVolumeClaim on the shared volume).</summary>
    public string DataVolumeSize { get; set; } = "100Gi";

    /// <summary>OTEL_EXPORTER_OTLP_ENDPOINT of every service: the cluster's OpenTelemetry collector (OTLP/gRPC).</summary>
    public string OtlpEndpoint { get; set; } = "http://otel-collector.observability.svc.cluster.local:4317";

    public AutoscalerKind Autoscaler { get; set; } = AutoscalerKind.Keda;

    /// <summary>Size of each per-pod volume that has no size of its own (Redis AOF, Ollama models).</summary>
    public string ContainerVolumeSize { get; set; } = "20Gi";

    /// <summary>Port every project listens on in its container (HTTP_PORTS); the Service exposes the same port.</summary>
    public int ProjectPort { get; set; } = 8080;
}
