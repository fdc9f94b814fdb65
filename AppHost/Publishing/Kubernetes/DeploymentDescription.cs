namespace FineTune.AppHost.Publishing.Kubernetes;

// The publisher's own intermediate description of a deployment: what each workload needs, in Kubernetes terms but
// before any Kubernetes object exists. AppModelToDeployment fills it from the app model; KubernetesObjectFactory turns
// it into typed KubernetesClient objects. Keeping this step separate lets the tests build descriptions directly.

/// <summary>Everything one kustomize folder holds.</summary>
/// <param name="Namespace">The namespace every object goes to (a Namespace object is written), or null for the kubectl context's.</param>
/// <param name="Workloads">In app-model order.</param>
/// <param name="SecretName">The one Secret that holds every parameter (keys = parameter names), made by kustomize's secretGenerator.</param>
/// <param name="SecretKeys">The parameter names the user must give values for in secrets.env.</param>
/// <param name="SharedClaims">PersistentVolumeClaims that are objects of their own (the shared data volume, Ollama's models).</param>
public sealed record DeploymentDescription(
    string? Namespace,
    IReadOnlyList<WorkloadSpec> Workloads,
    string SecretName,
    IReadOnlyList<SecretKeySpec> SecretKeys,
    IReadOnlyList<ClaimSpec> SharedClaims);

/// <summary>A parameter whose value the user supplies. <paramref name="Hint"/> says how to make one (never a value).</summary>
public sealed record SecretKeySpec(string Key, string Hint);

public enum WorkloadKind { Deployment, StatefulSet }

/// <summary>One app-model resource as a Kubernetes workload.</summary>
/// <param name="Name">The resource name: Deployment/StatefulSet, Service and ConfigMap names derive from it.</param>
/// <param name="Component">app.kubernetes.io/component: project, container.</param>
/// <param name="Command">Overrides the image's entrypoint; null keeps it.</param>
/// <param name="Args">Container args; $(VAR) references to env entries are expanded by the kubelet.</param>
/// <param name="Replicas">Fixed replica count (the initial one when Scaling is set).</param>
/// <param name="Env">Variables in the order the container sees them.</param>
/// <param name="Claims">Volume claims: shared ones by name, or per-pod templates for a StatefulSet.</param>
/// <param name="RecreateOnUpdate">Deployment strategy Recreate (a ReadWriteOnce volume cannot be mounted by old and new pod at once).</param>
/// <param name="RunAsUser">Non-root user (and fsGroup, so mounted volumes are writable) the image runs as; null leaves the image's.</param>
public sealed record WorkloadSpec(
    string Name,
    string Component,
    WorkloadKind Kind,
    string Image,
    IReadOnlyList<string>? Command,
    IReadOnlyList<string> Args,
    int Replicas,
    ScalingSpec? Scaling,
    int Gpus,
    ComputeResources Resources,
    IReadOnlyList<EnvEntry> Env,
    IReadOnlyList<PortSpec> Ports,
    ProbeSpec? Liveness,
    ProbeSpec? Readiness,
    IReadOnlyList<VolumeMountSpec> Mounts,
    int? TerminationGracePeriodSeconds,
    IReadOnlyList<TolerationSpec> Tolerations,
    IReadOnlyDictionary<string, string> NodeSelector,
    bool RecreateOnUpdate,
    long? RunAsUser = null);

/// <summary>CPU/memory requests and limits in Kubernetes quantity syntax ("500m", "2Gi"); null leaves one unset.</summary>
public sealed record ComputeResources(string? CpuRequest, string? MemoryRequest, string? CpuLimit, string? MemoryLimit)
{
    public static ComputeResources None { get; } = new(null, null, null, null);
}

/// <summary>Scale between Min and Max replicas on a Redis stream consumer group's lag (KEDA), or on CPU (HPA).</summary>
/// <param name="LagPerReplica">KEDA lagCount: target lagging entries per replica.</param>
/// <param name="RedisAddress">host:port of Redis as seen from KEDA.</param>
/// <param name="PasswordSecretKey">Key of the Redis password in the deployment's Secret.</param>
public sealed record ScalingSpec(
    int MinReplicas,
    int MaxReplicas,
    string Stream,
    string ConsumerGroup,
    int LagPerReplica,
    string RedisAddress,
    string? PasswordSecretKey);

public enum EnvSource { Literal, Secret, Composed, PodField }

/// <summary>
/// One environment variable. Literal values go to the workload's ConfigMap; Secret ones are secretKeyRefs into the
/// deployment's Secret; Composed ones stay inline because they use $(VAR) expansion of earlier entries (e.g. a
/// connection string around a password), which the kubelet performs only for env, never for envFrom; PodField
/// reads the downward API (e.g. metadata.name).
/// </summary>
public sealed record EnvEntry(string Name, EnvSource Source, string Value)
{
    public static EnvEntry Literal(string name, string value) => new(name, EnvSource.Literal, value);
    public static EnvEntry FromSecret(string name, string secretKey) => new(name, EnvSource.Secret, secretKey);
    public static EnvEntry Composed(string name, string template) => new(name, EnvSource.Composed, template);
    public static EnvEntry FromPodField(string name, string fieldPath) => new(name, EnvSource.PodField, fieldPath);
}

/// <summary>A port the container listens on; Expose makes it part of the workload's Service.</summary>
public sealed record PortSpec(string Name, int ContainerPort, bool Expose);

public enum ProbeKind { HttpGet, TcpSocket, Exec }

/// <summary>A liveness or readiness probe: HTTP GET of Target on Port, a TCP connect to Port, or a command (Target, run by sh -c).</summary>
public sealed record ProbeSpec(ProbeKind Kind, string? Target, string? Port, int InitialDelaySeconds, int PeriodSeconds, int FailureThreshold);

/// <summary>A claim: ReadWriteOnce or ReadWriteMany, with size and optional storage class (null = the cluster's default).</summary>
public sealed record ClaimSpec(string Name, string AccessMode, string Size, string? StorageClass);

/// <summary>Mount a claim at MountPath. PerPod claims become StatefulSet volumeClaimTemplates.</summary>
public sealed record VolumeMountSpec(string VolumeName, ClaimSpec Claim, string MountPath, bool PerPod, bool ReadOnly);

/// <summary>A pod toleration (Operator Exists when Value is null).</summary>
public sealed record TolerationSpec(string Key, string? Value, string Effect);
