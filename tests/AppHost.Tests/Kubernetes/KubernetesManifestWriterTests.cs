using FineTune.AppHost.Publishing.Kubernetes;
using k8s;
using k8s.Models;

namespace FineTune.AppHost.Tests.Kubernetes;

public sealed class KubernetesManifestWriterTests : IDisposable
{
    private readonly TempDirectory _temp = new("ft-k8s");

    public void Dispose() => _temp.Dispose();

    private string WriteSample(string name = "out", DeploymentDescription? description = null, KubernetesPublishOptions? options = null)
    {
        var path = _temp.File(name);
        KubernetesManifestWriter.Write(path, description ?? SampleDeployments.Small(), options ?? new KubernetesPublishOptions(), SampleDeployments.DataClaim);
        return path;
    }

    [Fact]
    public void EveryYamlFileParsesStrictlyIntoTypedModelsAndReserialisesIdentically()
    {
        var folder = new ManifestFolder(WriteSample());

        Assert.NotEmpty(folder.Objects);
        Assert.NotEmpty(folder.Patches);
        foreach (var (path, obj) in folder.Objects.Concat(folder.Patches.Select(kv => KeyValuePair.Create(kv.Key, (object)kv.Value))))
        {
            var again = KubernetesYaml.Serialize(obj) + "\n";
            Assert.True(ManifestFolder.WithoutComments(folder.Texts[path]) == again, $"{path} changed in a parse/serialise round trip:\n{again}");
        }
    }

    [Fact]
    public void StrictReadingRejectsAFieldTheModelsDoNotKnow()
    {
        // What makes the round trip meaningful: a field the typed models lack is an error, not silently dropped.
        var path = Path.Combine(WriteSample(), "base", "trainer", "deployment.yaml");
        var text = File.ReadAllText(path).Replace("  replicas: 2\n", "  replicas: 2\n  replicaz: 3\n");
        Assert.Contains("replicaz", text);
        Assert.ThrowsAny<Exception>(() => KubernetesYaml.LoadAllFromString(text, ManifestFolder.CustomKinds, strict: true));
    }

    [Fact]
    public void EveryObjectCarriesTheFieldsItsKindRequires()
    {
        var folder = new ManifestFolder(WriteSample(options: new KubernetesPublishOptions { Autoscaler = AutoscalerKind.Keda }));
        var hpaFolder = new ManifestFolder(WriteSample("hpa", options: new KubernetesPublishOptions { Autoscaler = AutoscalerKind.Hpa }));

        foreach (var (path, obj) in folder.BaseObjects.Concat(hpaFolder.BaseObjects))
            Assert.True(RequiredFields.Problems(obj).Count == 0, $"{path}: missing {string.Join(", ", RequiredFields.Problems(obj))}");
        Assert.Contains(hpaFolder.BaseObjects, o => o.Object is V2HorizontalPodAutoscaler);
    }

    [Fact]
    public void RootKustomizationListsEveryBaseObjectAndNothingElse()
    {
        var folder = new ManifestFolder(WriteSample());
        var root = (Kustomization)folder.Objects[KubernetesManifestWriter.KustomizationFile];
        var baseKustomization = (Kustomization)folder.Objects[$"{KubernetesManifestWriter.BaseFolder}/{KubernetesManifestWriter.KustomizationFile}"];

        var baseFiles = folder.BaseObjects.Select(o => o.Path).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(baseFiles, root.Resources!.Order(StringComparer.Ordinal));
        Assert.Equal(baseFiles.Select(p => p[(KubernetesManifestWriter.BaseFolder.Length + 1)..]), baseKustomization.Resources!.Order(StringComparer.Ordinal));
        Assert.Equal("finetune", root.Namespace);
    }

    [Fact]
    public void KubectlKustomizeBuildsTheRootAndTheGpuOverlayOffline()
    {
        var path = WriteSample();
        const string password = "kustomize-test-password-7f3a";
        File.WriteAllText(Path.Combine(path, "base", KubernetesManifestWriter.SecretsFile), $"redis-password={password}\n");

        var built = KubernetesYaml.LoadAllFromString(Kubectl.Kustomize(path), ManifestFolder.CustomKinds, strict: true);
        var secret = built.OfType<V1Secret>().Single();
        Assert.Equal(SampleDeployments.SecretName, secret.Metadata.Name);
        Assert.Equal(password, System.Text.Encoding.UTF8.GetString(secret.Data["redis-password"]));
        foreach (var o in built.Where(o => o is not V1Namespace))
            Assert.Equal("finetune", ManifestFolder.MetaOf(o)?.NamespaceProperty);
        Assert.Single(built.OfType<V1Deployment>(), d => d.Metadata.Name == "trainer");
        Assert.Single(built.OfType<KedaScaledObject>());

        var overlay = KubernetesYaml.LoadAllFromString(Kubectl.Kustomize(Path.Combine(path, GpuOverlay.Folder)), ManifestFolder.CustomKinds, strict: true);
        var trainer = overlay.OfType<V1Deployment>().Single(d => d.Metadata.Name == "trainer");
        Assert.Equal("finetune/trainer:latest-cuda", trainer.Spec.Template.Spec.Containers[0].Image); // the base's image, unchanged
        Assert.Equal("true", trainer.Spec.Template.Spec.NodeSelector[GpuOverlay.GpuNodeLabel]);
        Assert.Contains(trainer.Spec.Template.Spec.Tolerations, t => t.Key == KubernetesObjectFactory.GpuResource);
        // the patch adds to the base, it does not replace it
        Assert.Equal("1", trainer.Spec.Template.Spec.Containers[0].Resources.Limits[KubernetesObjectFactory.GpuResource].ToString());
        Assert.Equal(GpuOverlay.ExampleStorageClass, overlay.OfType<V1PersistentVolumeClaim>().Single(c => c.Metadata.Name == SampleDeployments.DataClaim).Spec.StorageClassName);
    }

    [Fact]
    public void CpuOverlayRemovesEveryGpuRequestAndUsesTheCpuImage()
    {
        var path = WriteSample(description: SampleDeployments.Small(gpus: 2));
        File.WriteAllText(Path.Combine(path, "base", KubernetesManifestWriter.SecretsFile), "redis-password=x\n");
        var built = KubernetesYaml.LoadAllFromString(Kubectl.Kustomize(Path.Combine(path, CpuOverlay.Folder)), ManifestFolder.CustomKinds, strict: true);
        var trainer = built.OfType<V1Deployment>().Single(d => d.Metadata.Name == "trainer");
        var resources = trainer.Spec.Template.Spec.Containers[0].Resources;
        Assert.False(resources.Limits.ContainsKey(KubernetesObjectFactory.GpuResource));
        Assert.False(resources.Requests.ContainsKey(KubernetesObjectFactory.GpuResource));
        Assert.Equal("16Gi", resources.Limits["memory"].ToString()); // the rest stays
        Assert.Equal("finetune/trainer:latest", trainer.Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public void NoCpuOverlayWhenTheModelAsksForNoGpu()
    {
        Assert.False(Directory.Exists(Path.Combine(WriteSample(description: SampleDeployments.Small(gpus: 0)), CpuOverlay.Folder)));
    }

    [Fact]
    public void KustomizeRefusesToBuildWithoutTheUsersSecretsFile()
    {
        // No placeholder password can ever be deployed: without base/secrets.env there is no Secret and no build.
        var (code, _, stderr) = Kubectl.Run("kustomize", WriteSample());
        Assert.NotEqual(0, code);
        Assert.Contains("secrets.env", stderr);
    }

    [Fact]
    public void RegeneratingGivesByteIdenticalFiles()
    {
        var first = WriteSample("a");
        var second = WriteSample("b");
        var firstFiles = Files(first);
        Assert.Equal(firstFiles.Keys, Files(second).Keys);
        foreach (var (path, bytes) in Files(second))
            Assert.True(bytes.AsSpan().SequenceEqual(firstFiles[path]), $"{path} differs between two runs");

        WriteSample("a"); // in place, over the previous output
        foreach (var (path, bytes) in Files(first))
            Assert.True(bytes.AsSpan().SequenceEqual(firstFiles[path]), $"{path} differs after rewriting in place");
    }

    [Fact]
    public void RewritingKeepsTheUsersSecretsFileAndLeavesNoStagingFolder()
    {
        var path = WriteSample();
        var secrets = Path.Combine(path, "base", KubernetesManifestWriter.SecretsFile);
        File.WriteAllText(secrets, "redis-password=keep-me\n");
        File.WriteAllText(Path.Combine(path, "base", "stale.yaml"), "kind: Stale\n");

        WriteSample();

        Assert.Equal("redis-password=keep-me\n", File.ReadAllText(secrets));
        Assert.False(File.Exists(Path.Combine(path, "base", "stale.yaml")), "files of the previous output must not survive");
        Assert.False(Directory.Exists(path + ".tmp"));
        Assert.False(Directory.Exists(path + ".old"));
        Assert.Equal("secrets.env\n", File.ReadAllText(Path.Combine(path, ".gitignore")));
    }

    [Fact]
    public void SecretsExampleNamesEveryKeyWithAnEmptyValue()
    {
        var example = File.ReadAllLines(Path.Combine(WriteSample(), "base", KubernetesManifestWriter.SecretsExampleFile));
        var assignments = example.Where(l => !l.StartsWith('#') && l.Length > 0).ToList();
        Assert.Equal(["redis-password="], assignments);
    }

    private static SortedDictionary<string, byte[]> Files(string root) => new(
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes),
        StringComparer.Ordinal);
}
