using System.Text;
using FineTune.AppHost.Publishing.Kubernetes;
using k8s;
using k8s.Models;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>Publishes AppHost/Program.cs's app model once (the real AppHost, as a process) for the tests that read it.</summary>
public sealed class PublishedAppModel : IDisposable
{
    /// <summary>Given to the AppHost as the Redis password: the publisher must never write it anywhere.</summary>
    public const string PasswordSentinel = "SentinelPw9c41e0b7d2";

    private readonly TempDirectory _temp = new("ft-k8s-publish");

    public PublishedAppModel()
    {
        Path = _temp.File("k8s");
        AppHostPublish.Kubernetes(Path, $"--Parameters:redis-password={PasswordSentinel}");
        Folder = new ManifestFolder(Path);
    }

    public string Path { get; }

    internal ManifestFolder Folder { get; }

    internal TempDirectory Temp => _temp;

    public void Dispose() => _temp.Dispose();
}

public sealed class KubernetesPublisherTests(PublishedAppModel published) : IClassFixture<PublishedAppModel>
{
    private static readonly string[] Projects = ["dataset", "preprocess", "trainer", "export"];
    private const string DataClaim = "finetune-data";
    private const string DataRoot = "/var/lib/finetune/data";

    private ManifestFolder Folder => published.Folder;

    private V1Deployment Deployment(string name) => Folder.Single<V1Deployment>(name);

    private V1Container Container(string name) => Deployment(name).Spec.Template.Spec.Containers.Single();

    [Fact]
    public void TrainerCarriesReplicasGpuGracePeriodAndTolerationOfTheAppModel()
    {
        var trainer = Deployment("trainer");
        Assert.Equal(2, trainer.Spec.Replicas); // WithReplicas(2): not the converter's replicas: 1
        var c = trainer.Spec.Template.Spec.Containers.Single();
        Assert.Equal("1", c.Resources.Limits[KubernetesObjectFactory.GpuResource].ToString());
        Assert.Equal("32Gi", c.Resources.Limits["memory"].ToString());
        Assert.Equal("8Gi", c.Resources.Requests["memory"].ToString());
        Assert.Equal("finetune/trainer:latest-cuda", c.Image);
        Assert.Equal(300, trainer.Spec.Template.Spec.TerminationGracePeriodSeconds);
        Assert.Contains(trainer.Spec.Template.Spec.Tolerations, t => t.Key == "nvidia.com/gpu" && t.OperatorProperty == "Exists");
        var env = Folder.Single<V1ConfigMap>("trainer-env").Data;
        Assert.True(int.Parse(env[AppModelToDeployment.ShutdownTimeoutVariable]) is > 30 and < 300, "the host must wait longer than its default, and less than the kubelet");

        foreach (var name in Projects.Where(p => p != "trainer"))
            Assert.False(Container(name).Resources?.Limits?.ContainsKey(KubernetesObjectFactory.GpuResource) ?? false, $"{name} asks for a GPU the app model did not give it");
    }

    [Fact]
    public void KedaScaledObjectScalesTrainersOnTheTrainingStreamGroupLag()
    {
        var scaled = Folder.Single<KedaScaledObject>("trainer");
        Assert.Equal("trainer", scaled.Spec.ScaleTargetRef.Name);
        Assert.Equal(1, scaled.Spec.MinReplicaCount);
        Assert.Equal(8, scaled.Spec.MaxReplicaCount);
        Assert.Equal("waiting + running", scaled.Spec.Advanced!.ScalingModifiers!.Formula);
        Assert.Equal(["running", "waiting"], scaled.Spec.Triggers.Select(t => t.Name).Order());
        var trigger = scaled.Spec.Triggers.Single(t => t.Name == "waiting");
        Assert.Equal("redis-streams", trigger.Type);
        Assert.Equal("ft:train:jobs", trigger.Metadata["stream"]);
        Assert.Equal("trainers", trigger.Metadata["consumerGroup"]);
        Assert.Equal("redis:6379", trigger.Metadata["address"]);
        Assert.Equal("1", trigger.Metadata["lagCount"]);
        Assert.Equal("1", scaled.Spec.Triggers.Single(t => t.Name == "running").Metadata["pendingEntriesCount"]);
        var auth = Folder.Single<KedaTriggerAuthentication>(trigger.AuthenticationRef!.Name);
        Assert.Equal(AppModelToDeployment.SecretName, auth.Spec.SecretTargetRef.Single().Name);
        Assert.Equal("redis-password", auth.Spec.SecretTargetRef.Single().Key);
    }

    [Fact]
    public void EveryProjectGetsDeploymentServiceProbesSharedDataAndTheClusterCollector()
    {
        foreach (var name in Projects)
        {
            var deployment = Deployment(name);
            var c = Container(name);
            Assert.Equal("/alive", c.LivenessProbe.HttpGet.Path);
            Assert.Equal("/health", c.ReadinessProbe.HttpGet.Path);
            var port = c.Ports.Single(p => p.Name == "http").ContainerPort;

            var service = Folder.Single<V1Service>(name);
            Assert.Equal(port, service.Spec.Ports.Single(p => p.Name == "http").Port);
            Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);

            var env = Folder.Single<V1ConfigMap>($"{name}-env").Data;
            Assert.Equal(port.ToString(), env["HTTP_PORTS"]);
            Assert.Equal(DataRoot, env["FineTune__DataRoot"]);
            Assert.Equal("http://otel-collector.observability.svc.cluster.local:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal(name, env["OTEL_SERVICE_NAME"]);
            Assert.Equal($"{name}-env", c.EnvFrom.Single().ConfigMapRef.Name);

            var volume = deployment.Spec.Template.Spec.Volumes.Single(v => v.PersistentVolumeClaim?.ClaimName == DataClaim);
            Assert.Equal(DataRoot, c.VolumeMounts.Single(m => m.Name == volume.Name).MountPath);
            Assert.Equal((true, 1654L, 1654L), (deployment.Spec.Template.Spec.SecurityContext.RunAsNonRoot, deployment.Spec.Template.Spec.SecurityContext.RunAsUser, deployment.Spec.Template.Spec.SecurityContext.FsGroup));
            Assert.Equal("service.instance.id=$(POD_NAME)", c.Env.Single(e => e.Name == "OTEL_RESOURCE_ATTRIBUTES").Value);
            Assert.Equal("redis:6379,password=$(FT_SECRET_REDIS_PASSWORD)", c.Env.Single(e => e.Name == "ConnectionStrings__redis").Value);
        }
        Assert.Equal("Endpoint=http://ollama:11434", Folder.Single<V1ConfigMap>("export-env").Data["ConnectionStrings__ollama"]);

        var claim = Folder.Single<V1PersistentVolumeClaim>(DataClaim);
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
    }

    [Fact]
    public void RedisIsAStatefulSetWithAClaimAppendOnlyAndItsPasswordFromTheSecret()
    {
        var redis = Folder.Single<V1StatefulSet>("redis");
        var c = redis.Spec.Template.Spec.Containers.Single();
        Assert.Contains("--appendonly yes", string.Join(' ', c.Args));
        var password = c.Env.Single(e => e.Name == "REDIS_PASSWORD");
        Assert.Null(password.Value);
        Assert.Equal((AppModelToDeployment.SecretName, "redis-password"), (password.ValueFrom.SecretKeyRef.Name, password.ValueFrom.SecretKeyRef.Key));
        var template = Assert.Single(redis.Spec.VolumeClaimTemplates);
        Assert.Equal("/data", c.VolumeMounts.Single(m => m.Name == template.Metadata.Name).MountPath);
        Assert.Equal(6379, Folder.Single<V1Service>("redis").Spec.Ports.Single().Port);
        Assert.Equal("None", Folder.Single<V1Service>(redis.Spec.ServiceName).Spec.ClusterIP);
    }

    [Fact]
    public void OllamaIsADeploymentWithAClaimForItsModels()
    {
        var ollama = Deployment("ollama");
        Assert.Equal("Recreate", ollama.Spec.Strategy.Type);
        var c = ollama.Spec.Template.Spec.Containers.Single();
        var mount = c.VolumeMounts.Single(m => m.MountPath == "/root/.ollama");
        var claimName = ollama.Spec.Template.Spec.Volumes.Single(v => v.Name == mount.Name).PersistentVolumeClaim.ClaimName;
        Assert.Equal(["ReadWriteOnce"], Folder.Single<V1PersistentVolumeClaim>(claimName).Spec.AccessModes);
        Assert.Equal(11434, Folder.Single<V1Service>("ollama").Spec.Ports.Single().Port);
    }

    [Fact]
    public void NoParameterValueIsWrittenAndNoConfigMapHoldsASecret()
    {
        foreach (var file in Directory.EnumerateFiles(published.Path, "*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotContain(PublishedAppModel.PasswordSentinel, text);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(PublishedAppModel.PasswordSentinel)), text);
        }
        Assert.Empty(Folder.All<V1Secret>()); // Secrets come only from secretGenerator and the user's secrets.env

        var secretVariables = Folder.All<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers)
            .Concat(Folder.All<V1StatefulSet>().SelectMany(s => s.Spec.Template.Spec.Containers))
            .SelectMany(c => c.Env ?? []).Where(e => e.ValueFrom?.SecretKeyRef is not null).Select(e => e.Name).ToHashSet();
        Assert.NotEmpty(secretVariables);
        foreach (var configMap in Folder.All<V1ConfigMap>())
        {
            foreach (var (key, value) in configMap.Data)
            {
                Assert.DoesNotContain(key, secretVariables);
                Assert.DoesNotContain("password", value, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("$(", value); // a reference in a ConfigMap would not even be expanded
            }
        }
    }

    [Fact]
    public void PublishedFolderRoundTripsHasRequiredFieldsAndBuildsWithKubectl()
    {
        foreach (var (path, obj) in Folder.Objects)
        {
            Assert.Equal(ManifestFolder.WithoutComments(Folder.Texts[path]), KubernetesYaml.Serialize(obj) + "\n");
            if (!path.EndsWith(KubernetesManifestWriter.KustomizationFile, StringComparison.Ordinal) && path.StartsWith("base/", StringComparison.Ordinal))
                Assert.True(RequiredFields.Problems(obj).Count == 0, $"{path}: missing {string.Join(", ", RequiredFields.Problems(obj))}");
        }

        var copy = published.Temp.File("build");
        CopyDirectory(published.Path, copy);
        File.WriteAllText(Path.Combine(copy, "base", KubernetesManifestWriter.SecretsFile), "redis-password=built-by-test\n");
        var built = KubernetesYaml.LoadAllFromString(Kubectl.Kustomize(copy), ManifestFolder.CustomKinds, strict: true);
        Assert.Equal(["dataset", "export", "inference", "ollama", "preprocess", "studio", "trainer"], built.OfType<V1Deployment>().Select(d => d.Metadata.Name).Order());
        Assert.Equal("redis", built.OfType<V1StatefulSet>().Single().Metadata.Name);
        Assert.Equal("built-by-test", Encoding.UTF8.GetString(built.OfType<V1Secret>().Single().Data["redis-password"]));
        Kubectl.Kustomize(Path.Combine(copy, GpuOverlay.Folder));
        var cpu = KubernetesYaml.LoadAllFromString(Kubectl.Kustomize(Path.Combine(copy, CpuOverlay.Folder)), ManifestFolder.CustomKinds, strict: true);
        Assert.Equal("finetune/trainer:latest", cpu.OfType<V1Deployment>().Single(d => d.Metadata.Name == "trainer").Spec.Template.Spec.Containers[0].Image);
    }

    [Fact]
    public void PublishingAgainIsByteIdentical()
    {
        var again = published.Temp.File("again");
        AppHostPublish.Kubernetes(again, "--Parameters:redis-password=another-value-entirely");
        var first = Directory.EnumerateFiles(published.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(published.Path, f)).Order().ToList();
        Assert.Equal(first, Directory.EnumerateFiles(again, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(again, f)).Order());
        foreach (var file in first)
            Assert.True(File.ReadAllBytes(Path.Combine(published.Path, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, file))), $"{file} differs");
    }

    [Fact]
    public void FtPublishRunsTheAppHostPublisherAndForwardsItsOptions()
    {
        var viaFt = published.Temp.File("via-ft");
        var (code, stdout, stderr) = ProcessRun.Run("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "ft.dll"), "publish", "--publisher", "kubernetes", "--output-path", viaFt,
             "--apphost", Path.Combine(AppContext.BaseDirectory, "AppHost.dll"), $"--Parameters:redis-password={PublishedAppModel.PasswordSentinel}"],
            "the dotnet host is not on PATH.");
        Assert.True(code == 0, $"ft publish failed ({code}):\n{stdout}\n{stderr}");
        var files = Directory.EnumerateFiles(published.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(published.Path, f)).Order().ToList();
        Assert.Equal(files, Directory.EnumerateFiles(viaFt, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(viaFt, f)).Order());
        foreach (var file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(published.Path, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(viaFt, file))), $"{file} differs");

        var (badCode, _, badErr) = ProcessRun.Run("dotnet",
            [Path.Combine(AppContext.BaseDirectory, "ft.dll"), "publish", "--publisher", "kubernetes", "--output-path", viaFt, "--apphost", published.Temp.File("nowhere")],
            "the dotnet host is not on PATH.");
        Assert.Equal(1, badCode);
        Assert.Contains("nowhere: no AppHost project or dll there", badErr);
    }

    [Fact]
    public void CommittedDeployFolderIsWhatTheAppHostPublishesNow()
    {
        // deploy/k8s is committed like aspire-manifest.json: what the app model deploys is visible and diffable.
        var committed = Path.Combine(Repo.Root, "deploy", "k8s");
        static List<string> Files(string root) => Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => f != $"{KubernetesManifestWriter.BaseFolder}/{KubernetesManifestWriter.SecretsFile}") // the user's, never generated
            .Order(StringComparer.Ordinal).ToList();
        const string Regenerate = "deploy/k8s is stale. Regenerate it: dotnet run --project AppHost -- --publisher kubernetes --output-path ../deploy/k8s";
        Assert.True(Directory.Exists(committed), Regenerate);
        Assert.True(Files(published.Path).SequenceEqual(Files(committed)), Regenerate);
        foreach (var file in Files(published.Path))
            Assert.True(File.ReadAllText(Path.Combine(published.Path, file)) == File.ReadAllText(Path.Combine(committed, file)), $"{file}: {Regenerate}");
    }

    [Fact]
    public void ClusterOptionsFromTheCommandLineReachTheObjects()
    {
        var path = published.Temp.File("options");
        AppHostPublish.Kubernetes(path, "--image-registry", "registry.example.com/ft", "--image-tag", "1.2.3", "--storage-class", "efs-sc",
            "--k8s-namespace", "ml", "--otlp-endpoint", "http://collector:4317", "--autoscaler", "hpa");
        var folder = new ManifestFolder(path);
        Assert.Equal("registry.example.com/ft/dataset:1.2.3", folder.Single<V1Deployment>("dataset").Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("registry.example.com/ft/trainer:1.2.3-cuda", folder.Single<V1Deployment>("trainer").Spec.Template.Spec.Containers[0].Image);
        Assert.Equal("efs-sc", folder.Single<V1PersistentVolumeClaim>(DataClaim).Spec.StorageClassName);
        Assert.Equal("ml", ((Kustomization)folder.Objects[KubernetesManifestWriter.KustomizationFile]).Namespace);
        Assert.Equal("http://collector:4317", folder.Single<V1ConfigMap>("trainer-env").Data["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Empty(folder.All<KedaScaledObject>());
        var hpa = folder.Single<V2HorizontalPodAutoscaler>("trainer");
        Assert.Equal((1, 8), (hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas));
    }

    [Fact]
    public void AnUnknownAutoscalerIsRefusedWithTheFlagNamed()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "AppHost.dll");
        var target = published.Temp.File("refused");
        var (code, stdout, stderr) = ProcessRun.Run("dotnet", [dll, "--publisher", "kubernetes", "--output-path", target, "--autoscaler", "vpa"], "dotnet");
        Assert.NotEqual(0, code);
        Assert.Contains("--autoscaler 'vpa'", stdout + stderr);
        Assert.False(Directory.Exists(target));
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
