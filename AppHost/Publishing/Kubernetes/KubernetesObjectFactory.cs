using k8s.Models;

namespace FineTune.AppHost.Publishing.Kubernetes;

/// <summary>One object and the file (relative to the output folder, '/' separated) it is written to.</summary>
public sealed record ManifestFile(string Path, object Object);

/// <summary>What to do about scaling when a workload has a ScalingSpec.</summary>
public enum AutoscalerKind
{
    /// <summary>KEDA ScaledObject with the redis-streams trigger on the consumer group's lag (KEDA must be installed).</summary>
    Keda,
    /// <summary>autoscaling/v2 HorizontalPodAutoscaler on CPU utilisation, for clusters without KEDA.</summary>
    Hpa,
    /// <summary>No autoscaler: the fixed replica count only.</summary>
    None,
}

/// <summary>
/// Turns a <see cref="DeploymentDescription"/> into KubernetesClient typed objects, one file each: per workload a
/// Deployment or StatefulSet, a ConfigMap of its literal env, a Service when it exposes ports (plus the headless
/// governing Service of a StatefulSet), and its autoscaler; the shared PersistentVolumeClaims; the Namespace.
/// </summary>
public static class KubernetesObjectFactory
{
    public const string NameLabel = "app.kubernetes.io/name";
    public const string ComponentLabel = "app.kubernetes.io/component";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string PartOf = "finetune";
    public const string ManagedBy = "finetune-apphost";
    public const string GpuResource = "nvidia.com/gpu";

    public static IReadOnlyList<ManifestFile> Create(DeploymentDescription description, AutoscalerKind autoscaler)
    {
        var files = new List<ManifestFile>();
        if (description.Namespace is { } ns)
            files.Add(new("namespace.yaml", new V1Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new V1ObjectMeta { Name = ns, Labels = Labels(PartOf, "namespace") } }));
        foreach (var claim in description.SharedClaims)
            files.Add(new($"volumes/{claim.Name}.yaml", Claim(claim, Labels(claim.Name, "volume"))));

        foreach (var w in description.Workloads)
        {
            var configMap = ConfigMap(w);
            if (configMap is not null)
                files.Add(new($"{w.Name}/configmap.yaml", configMap));
            files.Add(w.Kind == WorkloadKind.StatefulSet
                ? new($"{w.Name}/statefulset.yaml", StatefulSet(w, description.SecretName, configMap is not null))
                : new($"{w.Name}/deployment.yaml", Deployment(w, description.SecretName, configMap is not null)));
            if (w.Ports.Any(p => p.Expose))
                files.Add(new($"{w.Name}/service.yaml", Service(w, w.Name, headless: false)));
            if (w.Kind == WorkloadKind.StatefulSet)
                files.Add(new($"{w.Name}/service-headless.yaml", Service(w, HeadlessName(w), headless: true)));
            if (w.Scaling is { } scaling)
            {
                switch (autoscaler)
                {
                    case AutoscalerKind.Keda:
                        if (scaling.PasswordSecretKey is not null)
                            files.Add(new($"{w.Name}/triggerauthentication.yaml", TriggerAuthentication(w, scaling, description.SecretName)));
                        files.Add(new($"{w.Name}/scaledobject.yaml", ScaledObject(w, scaling)));
                        break;
                    case AutoscalerKind.Hpa:
                        files.Add(new($"{w.Name}/hpa.yaml", Hpa(w, scaling)));
                        break;
                }
            }
        }
        return files;
    }

    public static string ConfigMapName(WorkloadSpec w) => $"{w.Name}-env";
    public static string HeadlessName(WorkloadSpec w) => $"{w.Name}-headless";
    public static string TriggerAuthenticationName(WorkloadSpec w) => $"{w.Name}-redis-auth";

    private static SortedDictionary<string, string> Labels(string name, string component) => new(StringComparer.Ordinal)
    {
        [NameLabel] = name,
        [ComponentLabel] = component,
        [PartOfLabel] = PartOf,
        [ManagedByLabel] = ManagedBy,
    };

    private static SortedDictionary<string, string> Selector(string name) => new(StringComparer.Ordinal) { [NameLabel] = name };

    private static V1ObjectMeta Meta(string name, WorkloadSpec w) => new() { Name = name, Labels = Labels(w.Name, w.Component) };

    private static V1ConfigMap? ConfigMap(WorkloadSpec w)
    {
        var literals = w.Env.Where(e => e.Source == EnvSource.Literal).ToList();
        if (literals.Count == 0)
            return null;
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in literals)
            data[e.Name] = e.Value; // last one wins, as for env
        return new V1ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = Meta(ConfigMapName(w), w), Data = data };
    }

    private static V1Deployment Deployment(WorkloadSpec w, string secretName, bool hasConfigMap) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "Deployment",
        Metadata = Meta(w.Name, w),
        Spec = new V1DeploymentSpec
        {
            Replicas = w.Replicas,
            Selector = new V1LabelSelector { MatchLabels = Selector(w.Name) },
            Strategy = w.RecreateOnUpdate ? new V1DeploymentStrategy { Type = "Recreate" } : null,
            Template = PodTemplate(w, secretName, hasConfigMap),
        },
    };

    private static V1StatefulSet StatefulSet(WorkloadSpec w, string secretName, bool hasConfigMap) => new()
    {
        ApiVersion = "apps/v1",
        Kind = "StatefulSet",
        Metadata = Meta(w.Name, w),
        Spec = new V1StatefulSetSpec
        {
            Replicas = w.Replicas,
            ServiceName = HeadlessName(w),
            Selector = new V1LabelSelector { MatchLabels = Selector(w.Name) },
            Template = PodTemplate(w, secretName, hasConfigMap),
            VolumeClaimTemplates = w.Mounts.Where(m => m.PerPod)
                .Select(m => Claim(m.Claim with { Name = m.VolumeName }, Labels(w.Name, w.Component)))
                .ToList() is { Count: > 0 } templates ? templates : null,
        },
    };

    private static V1PodTemplateSpec PodTemplate(WorkloadSpec w, string secretName, bool hasConfigMap)
    {
        var container = new V1Container
        {
            Name = w.Name,
            Image = w.Image,
            ImagePullPolicy = "IfNotPresent",
            Command = w.Command?.ToList(),
            Args = w.Args.Count > 0 ? w.Args.ToList() : null,
            Ports = w.Ports.Count > 0 ? w.Ports.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.ContainerPort, Protocol = "TCP" }).ToList() : null,
            EnvFrom = hasConfigMap ? [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = ConfigMapName(w) } }] : null,
            Env = InlineEnv(w, secretName),
            Resources = Resources(w),
            LivenessProbe = Probe(w.Liveness),
            ReadinessProbe = Probe(w.Readiness),
            VolumeMounts = w.Mounts.Count > 0 ? w.Mounts.Select(m => new V1VolumeMount { Name = m.VolumeName, MountPath = m.MountPath, ReadOnlyProperty = m.ReadOnly ? true : null }).ToList() : null,
        };
        var sharedMounts = w.Mounts.Where(m => !m.PerPod).ToList();
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = Labels(w.Name, w.Component) },
            Spec = new V1PodSpec
            {
                Containers = [container],
                TerminationGracePeriodSeconds = w.TerminationGracePeriodSeconds,
                SecurityContext = w.RunAsUser is { } uid ? new V1PodSecurityContext { RunAsNonRoot = true, RunAsUser = uid, RunAsGroup = uid, FsGroup = uid } : null,
                NodeSelector = w.NodeSelector.Count > 0 ? new SortedDictionary<string, string>(w.NodeSelector.ToDictionary(), StringComparer.Ordinal) : null,
                Tolerations = w.Tolerations.Count > 0
                    ? w.Tolerations.Select(t => new V1Toleration { Key = t.Key, OperatorProperty = t.Value is null ? "Exists" : "Equal", Value = t.Value, Effect = t.Effect }).ToList()
                    : null,
                Volumes = sharedMounts.Count > 0
                    ? sharedMounts.Select(m => new V1Volume { Name = m.VolumeName, PersistentVolumeClaim = new V1PersistentVolumeClaimVolumeSource { ClaimName = m.Claim.Name } }).ToList()
                    : null,
            },
        };
    }

    private static List<V1EnvVar>? InlineEnv(WorkloadSpec w, string secretName)
    {
        var env = new List<V1EnvVar>();
        foreach (var e in w.Env)
        {
            switch (e.Source)
            {
                case EnvSource.Secret:
                    env.Add(new V1EnvVar { Name = e.Name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secretName, Key = e.Value } } });
                    break;
                case EnvSource.PodField:
                    env.Add(new V1EnvVar { Name = e.Name, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = e.Value } } });
                    break;
                case EnvSource.Composed:
                    env.Add(new V1EnvVar { Name = e.Name, Value = e.Value });
                    break;
            }
        }
        return env.Count > 0 ? env : null;
    }

    private static V1ResourceRequirements? Resources(WorkloadSpec w)
    {
        var requests = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var limits = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var r = w.Resources;
        if (r.CpuRequest is not null) requests["cpu"] = new ResourceQuantity(r.CpuRequest);
        if (r.MemoryRequest is not null) requests["memory"] = new ResourceQuantity(r.MemoryRequest);
        if (r.CpuLimit is not null) limits["cpu"] = new ResourceQuantity(r.CpuLimit);
        if (r.MemoryLimit is not null) limits["memory"] = new ResourceQuantity(r.MemoryLimit);
        if (w.Gpus > 0)
        {
            // Extended resources: the limit is what the scheduler reads; a request, when given, must equal it.
            limits[GpuResource] = new ResourceQuantity(w.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
            requests[GpuResource] = new ResourceQuantity(w.Gpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (requests.Count == 0 && limits.Count == 0)
            return null;
        return new V1ResourceRequirements { Requests = requests.Count > 0 ? requests : null, Limits = limits.Count > 0 ? limits : null };
    }

    private static V1Probe? Probe(ProbeSpec? p) => p is null ? null : new V1Probe
    {
        HttpGet = p.Kind == ProbeKind.HttpGet ? new V1HTTPGetAction { Path = p.Target, Port = p.Port } : null,
        TcpSocket = p.Kind == ProbeKind.TcpSocket ? new V1TCPSocketAction { Port = p.Port } : null,
        Exec = p.Kind == ProbeKind.Exec ? new V1ExecAction { Command = ["sh", "-c", p.Target!] } : null,
        InitialDelaySeconds = p.InitialDelaySeconds,
        PeriodSeconds = p.PeriodSeconds,
        FailureThreshold = p.FailureThreshold,
    };

    private static V1Service Service(WorkloadSpec w, string name, bool headless) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Meta(name, w),
        Spec = new V1ServiceSpec
        {
            Type = headless ? null : "ClusterIP",
            ClusterIP = headless ? "None" : null,
            Selector = Selector(w.Name),
            Ports = w.Ports.Where(p => p.Expose || headless)
                .Select(p => new V1ServicePort { Name = p.Name, Port = p.ContainerPort, TargetPort = p.Name, Protocol = "TCP" })
                .ToList(),
        },
    };

    private static V1PersistentVolumeClaim Claim(ClaimSpec c, IDictionary<string, string> labels) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = new V1ObjectMeta { Name = c.Name, Labels = labels },
        Spec = new V1PersistentVolumeClaimSpec
        {
            AccessModes = [c.AccessMode],
            StorageClassName = c.StorageClass,
            Resources = new V1VolumeResourceRequirements
            {
                Requests = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal) { ["storage"] = new ResourceQuantity(c.Size) },
            },
        },
    };

    private static KedaTriggerAuthentication TriggerAuthentication(WorkloadSpec w, ScalingSpec s, string secretName) => new()
    {
        Metadata = Meta(TriggerAuthenticationName(w), w),
        Spec = new KedaTriggerAuthenticationSpec
        {
            SecretTargetRef = [new KedaSecretTargetRef { Parameter = "password", Name = secretName, Key = s.PasswordSecretKey! }],
        },
    };

    public const string WaitingTrigger = "waiting";
    public const string RunningTrigger = "running";

    /// <summary>
    /// Replicas = ceil((waiting + running) / LagPerReplica), between min and max. Waiting is the group's lag (entries
    /// not yet delivered, XINFO GROUPS, Redis 7+); running is its pending entries (delivered, not yet acknowledged:
    /// jobs in training). Scaling on lag alone would take replicas away from busy trainers as soon as the queue is empty.
    /// </summary>
    private static KedaScaledObject ScaledObject(WorkloadSpec w, ScalingSpec s)
    {
        var auth = s.PasswordSecretKey is null ? null : new KedaAuthenticationRef { Name = TriggerAuthenticationName(w) };
        var perReplica = s.LagPerReplica.ToString(System.Globalization.CultureInfo.InvariantCulture);
        KedaTrigger Trigger(string name, string countKey)
        {
            var trigger = new KedaTrigger { Type = "redis-streams", Name = name, AuthenticationRef = auth };
            trigger.Metadata["address"] = s.RedisAddress;
            trigger.Metadata["stream"] = s.Stream;
            trigger.Metadata["consumerGroup"] = s.ConsumerGroup;
            trigger.Metadata[countKey] = perReplica;
            return trigger;
        }
        var waiting = Trigger(WaitingTrigger, "lagCount");
        waiting.Metadata["activationLagCount"] = "0"; // any waiting job wakes a workload scaled to zero
        return new KedaScaledObject
        {
            Metadata = Meta(w.Name, w),
            Spec = new KedaScaledObjectSpec
            {
                ScaleTargetRef = new KedaScaleTargetRef { ApiVersion = "apps/v1", Kind = "Deployment", Name = w.Name },
                PollingInterval = 15,
                // A replica whose job just finished may be the one removed; give the queue time to refill first.
                CooldownPeriod = 300,
                MinReplicaCount = s.MinReplicas,
                MaxReplicaCount = s.MaxReplicas,
                Advanced = new KedaAdvanced
                {
                    ScalingModifiers = new KedaScalingModifiers
                    {
                        Formula = $"{WaitingTrigger} + {RunningTrigger}",
                        Target = perReplica,
                        ActivationTarget = "0",
                        MetricType = "AverageValue",
                    },
                },
                Triggers = [waiting, Trigger(RunningTrigger, "pendingEntriesCount")],
            },
        };
    }

    private static V2HorizontalPodAutoscaler Hpa(WorkloadSpec w, ScalingSpec s) => new()
    {
        ApiVersion = "autoscaling/v2",
        Kind = "HorizontalPodAutoscaler",
        Metadata = Meta(w.Name, w),
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = w.Kind.ToString(), Name = w.Name },
            // An HPA cannot go below 1 without the HPAScaleToZero feature gate.
            MinReplicas = Math.Max(1, s.MinReplicas),
            MaxReplicas = s.MaxReplicas,
            Metrics =
            [
                new V2MetricSpec
                {
                    Type = "Resource",
                    Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 70 } },
                },
            ],
        },
    };
}
