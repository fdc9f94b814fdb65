using FineTune.AppHost.Publishing.Kubernetes;
using k8s;
using k8s.Models;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>Reads a written kustomize folder back: every YAML file, strictly, into KubernetesClient's typed models.</summary>
internal sealed class ManifestFolder
{
    /// <summary>The kinds that are not in KubernetesClient's model assembly, keyed as its LoadAllFromString expects.</summary>
    public static readonly Dictionary<string, Type> CustomKinds = new()
    {
        [$"{KedaScaledObject.KedaApiVersion}/{KedaScaledObject.KindName}"] = typeof(KedaScaledObject),
        [$"{KedaScaledObject.KedaApiVersion}/{KedaTriggerAuthentication.KindName}"] = typeof(KedaTriggerAuthentication),
        ["kustomize.config.k8s.io/v1beta1/Kustomization"] = typeof(Kustomization),
    };

    public ManifestFolder(string root)
    {
        Root = root;
        foreach (var path in Directory.EnumerateFiles(root, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
            var text = File.ReadAllText(path);
            Texts[relative] = text;
            if (relative.EndsWith(".patch.yaml", StringComparison.Ordinal))
            {
                // an overlay's JSON 6902 patch: a list of operations, not an object
                Patches[relative] = KubernetesYaml.Deserialize<List<JsonPatchOperation>>(text, strict: true);
                continue;
            }
            // strict: an unknown or misspelt field throws instead of being dropped
            var objects = KubernetesYaml.LoadAllFromString(text, CustomKinds, strict: true);
            Assert.True(objects.Count == 1, $"{relative}: expected one object, found {objects.Count}");
            Objects[relative] = objects[0];
        }
    }

    public string Root { get; }

    public SortedDictionary<string, string> Texts { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, object> Objects { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, List<JsonPatchOperation>> Patches { get; } = new(StringComparer.Ordinal);

    /// <summary>The objects of the base (what kubectl applies from the root), without kustomizations and overlays.</summary>
    public IEnumerable<(string Path, object Object)> BaseObjects => Objects
        .Where(kv => kv.Key.StartsWith(KubernetesManifestWriter.BaseFolder + "/", StringComparison.Ordinal) && kv.Value is not Kustomization)
        .Select(kv => (kv.Key, kv.Value));

    public T Single<T>(string name) where T : class =>
        BaseObjects.Select(o => o.Object).OfType<T>().Single(o => NameOf(o) == name);

    public IEnumerable<T> All<T>() => BaseObjects.Select(o => o.Object).OfType<T>();

    public static string? NameOf(object o) => MetaOf(o)?.Name;

    public static V1ObjectMeta? MetaOf(object o) => o switch
    {
        IMetadata<V1ObjectMeta> m => m.Metadata,
        KedaScaledObject s => s.Metadata,
        KedaTriggerAuthentication t => t.Metadata,
        _ => null,
    };

    /// <summary>The file's YAML without its leading comment lines (the serializer does not write comments).</summary>
    public static string WithoutComments(string text) =>
        string.Join('\n', text.Split('\n').SkipWhile(l => l.StartsWith('#')));
}
