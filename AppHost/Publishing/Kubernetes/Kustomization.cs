namespace FineTune.AppHost.Publishing.Kubernetes;

// kustomization.yaml as a typed object, serialised by KubernetesClient's YAML serializer like every other file here.
// Only fields that both kustomize v2.0.3 (embedded in Debian 12's kubectl 1.20) and kustomize v5 accept are used:
// resources as file paths (v2 cannot take directories there), bases for an overlay's parent (v5 accepts it with a
// deprecation warning), secretGenerator with a single env file, global generatorOptions, images,
// patchesStrategicMerge and patchesJson6902 (v5: deprecated, still applied). No commonLabels/labels, no patches, no per-generator options.

/// <summary>kustomize.config.k8s.io/v1beta1 Kustomization.</summary>
public sealed class Kustomization
{
    public string ApiVersion { get; set; } = "kustomize.config.k8s.io/v1beta1";
    public string Kind { get; set; } = "Kustomization";
    public string? Namespace { get; set; }
    public List<string>? Bases { get; set; }
    public List<string>? Resources { get; set; }
    public List<KustomizeSecretGenerator>? SecretGenerator { get; set; }
    public KustomizeGeneratorOptions? GeneratorOptions { get; set; }
    public List<KustomizeImage>? Images { get; set; }
    public List<string>? PatchesStrategicMerge { get; set; }
    public List<KustomizeJsonPatch>? PatchesJson6902 { get; set; }
}

/// <summary>A patchesJson6902 entry: the RFC 6902 operations in <see cref="Path"/> apply to <see cref="Target"/>.</summary>
public sealed class KustomizeJsonPatch
{
    public KustomizePatchTarget Target { get; set; } = new();
    public string Path { get; set; } = "";
}

public sealed class KustomizePatchTarget
{
    public string? Group { get; set; }
    public string Version { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Name { get; set; } = "";
}

/// <summary>A Secret built by kustomize from an env file (KEY=value lines) the user writes; <see cref="Env"/> is its path.</summary>
public sealed class KustomizeSecretGenerator
{
    public string Name { get; set; } = "";
    public string? Env { get; set; }
    public string? Type { get; set; }
}

public sealed class KustomizeGeneratorOptions
{
    public bool? DisableNameSuffixHash { get; set; }
}

public sealed class KustomizeImage
{
    public string Name { get; set; } = "";
    public string? NewName { get; set; }
    public string? NewTag { get; set; }
}
