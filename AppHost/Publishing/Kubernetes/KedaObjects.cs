using k8s.Models;

namespace FineTune.AppHost.Publishing.Kubernetes;

// KEDA's ScaledObject and TriggerAuthentication (keda.sh/v1alpha1) are custom resources, so KubernetesClient has no
// model for them. These classes carry the fields we write (names per KEDA's CRDs), serialised by KubernetesClient's
// own YAML serializer (camelCase property names, nulls omitted) and read back by it in strict mode by the tests.

/// <summary>keda.sh/v1alpha1 ScaledObject: scales a Deployment between min and max replicas on its triggers.</summary>
public sealed class KedaScaledObject
{
    public const string KedaApiVersion = "keda.sh/v1alpha1";
    public const string KindName = "ScaledObject";

    public string ApiVersion { get; set; } = KedaApiVersion;
    public string Kind { get; set; } = KindName;
    public V1ObjectMeta Metadata { get; set; } = new();
    public KedaScaledObjectSpec Spec { get; set; } = new();
}

public sealed class KedaScaledObjectSpec
{
    public KedaScaleTargetRef ScaleTargetRef { get; set; } = new();
    public int? PollingInterval { get; set; }
    public int? CooldownPeriod { get; set; }
    public int? MinReplicaCount { get; set; }
    public int? MaxReplicaCount { get; set; }
    public KedaAdvanced? Advanced { get; set; }
    public List<KedaTrigger> Triggers { get; set; } = [];
}

public sealed class KedaAdvanced
{
    public KedaScalingModifiers? ScalingModifiers { get; set; }
}

/// <summary>KEDA 2.12+: one metric computed from the named triggers' values by <see cref="Formula"/>.</summary>
public sealed class KedaScalingModifiers
{
    public string Formula { get; set; } = "";
    public string Target { get; set; } = "";
    public string? ActivationTarget { get; set; }
    public string? MetricType { get; set; }
}

public sealed class KedaScaleTargetRef
{
    public string? ApiVersion { get; set; }
    public string? Kind { get; set; }
    public string Name { get; set; } = "";
}

/// <summary>One trigger. Metadata values are strings, as KEDA requires.</summary>
public sealed class KedaTrigger
{
    public string Type { get; set; } = "";
    public string? Name { get; set; }
    public SortedDictionary<string, string> Metadata { get; set; } = new(StringComparer.Ordinal);
    public KedaAuthenticationRef? AuthenticationRef { get; set; }
}

public sealed class KedaAuthenticationRef
{
    public string Name { get; set; } = "";
}

/// <summary>keda.sh/v1alpha1 TriggerAuthentication: where a trigger finds its credentials (here, keys of a Secret).</summary>
public sealed class KedaTriggerAuthentication
{
    public const string KindName = "TriggerAuthentication";

    public string ApiVersion { get; set; } = KedaScaledObject.KedaApiVersion;
    public string Kind { get; set; } = KindName;
    public V1ObjectMeta Metadata { get; set; } = new();
    public KedaTriggerAuthenticationSpec Spec { get; set; } = new();
}

public sealed class KedaTriggerAuthenticationSpec
{
    public List<KedaSecretTargetRef> SecretTargetRef { get; set; } = [];
}

/// <summary>Trigger parameter <see cref="Parameter"/> comes from key <see cref="Key"/> of Secret <see cref="Name"/>.</summary>
public sealed class KedaSecretTargetRef
{
    public string Parameter { get; set; } = "";
    public string Name { get; set; } = "";
    public string Key { get; set; } = "";
}
