using FineTune.AppHost.Publishing.Kubernetes;
using k8s.Models;

namespace FineTune.AppHost.Tests.Kubernetes;

public sealed class KubernetesObjectFactoryTests
{
    private static List<object> Objects(DeploymentDescription d, AutoscalerKind autoscaler = AutoscalerKind.Keda) =>
        KubernetesObjectFactory.Create(d, autoscaler).Select(f => f.Object).ToList();

    private static V1Deployment Deployment(IEnumerable<object> objects, string name) => objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == name);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void DeploymentCarriesTheReplicaCountOfTheModel(int replicas)
    {
        var trainer = Deployment(Objects(SampleDeployments.Small(trainerReplicas: replicas)), "trainer");
        Assert.Equal(replicas, trainer.Spec.Replicas);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void GpuCountBecomesAnNvidiaGpuLimitAndEqualRequest(int gpus)
    {
        var resources = Deployment(Objects(SampleDeployments.Small(gpus: gpus)), "trainer").Spec.Template.Spec.Containers[0].Resources;
        Assert.Equal(gpus.ToString(), resources.Limits[KubernetesObjectFactory.GpuResource].ToString());
        Assert.Equal(gpus.ToString(), resources.Requests[KubernetesObjectFactory.GpuResource].ToString());
        Assert.Equal("8Gi", resources.Requests["memory"].ToString());
        Assert.Equal("16Gi", resources.Limits["memory"].ToString());
    }

    [Fact]
    public void NoGpuInTheModelMeansNoGpuResource()
    {
        var objects = Objects(SampleDeployments.Small(gpus: 0));
        foreach (var c in objects.OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers))
        {
            Assert.False(c.Resources?.Limits?.ContainsKey(KubernetesObjectFactory.GpuResource) ?? false);
            Assert.False(c.Resources?.Requests?.ContainsKey(KubernetesObjectFactory.GpuResource) ?? false);
        }
    }

    [Fact]
    public void ProjectsGetAliveAndHealthProbesOnTheirHttpPort()
    {
        var c = Deployment(Objects(SampleDeployments.Small()), "dataset").Spec.Template.Spec.Containers[0];
        Assert.Equal("/alive", c.LivenessProbe.HttpGet.Path);
        Assert.Equal("http", c.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("/health", c.ReadinessProbe.HttpGet.Path);
        Assert.Equal(8080, c.Ports.Single(p => p.Name == "http").ContainerPort);
    }

    [Fact]
    public void TrainerGetsGracePeriodTolerationsAndNodeSelector()
    {
        var pod = Deployment(Objects(SampleDeployments.Small()), "trainer").Spec.Template.Spec;
        Assert.Equal(600, pod.TerminationGracePeriodSeconds);
        var toleration = Assert.Single(pod.Tolerations);
        Assert.Equal(("nvidia.com/gpu", "Exists", "NoSchedule"), (toleration.Key, toleration.OperatorProperty, toleration.Effect));
        Assert.Equal("gpu", pod.NodeSelector["node.kubernetes.io/instance-type"]);
    }

    [Fact]
    public void StatefulSetGetsAClaimTemplateAndAHeadlessGoverningService()
    {
        var objects = Objects(SampleDeployments.Small());
        var redis = objects.OfType<V1StatefulSet>().Single();
        var template = Assert.Single(redis.Spec.VolumeClaimTemplates);
        Assert.Equal("data", template.Metadata.Name);
        Assert.Equal(["ReadWriteOnce"], template.Spec.AccessModes);
        Assert.Equal("8Gi", template.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal("/data", redis.Spec.Template.Spec.Containers[0].VolumeMounts.Single(m => m.Name == "data").MountPath);
        Assert.Null(redis.Spec.Template.Spec.Volumes); // the template provides the volume

        var headless = objects.OfType<V1Service>().Single(s => s.Metadata.Name == redis.Spec.ServiceName);
        Assert.Equal("None", headless.Spec.ClusterIP);
        var service = objects.OfType<V1Service>().Single(s => s.Metadata.Name == "redis");
        Assert.Equal(6379, service.Spec.Ports.Single().Port);
        Assert.Equal(redis.Spec.Selector.MatchLabels, service.Spec.Selector);
    }

    [Fact]
    public void SharedDataClaimIsReadWriteManyWithItsStorageClassAndMountedByClaimName()
    {
        var objects = Objects(SampleDeployments.Small());
        var claim = objects.OfType<V1PersistentVolumeClaim>().Single(c => c.Metadata.Name == SampleDeployments.DataClaim);
        Assert.Equal(["ReadWriteMany"], claim.Spec.AccessModes);
        Assert.Equal("nfs-csi", claim.Spec.StorageClassName);
        foreach (var name in new[] { "dataset", "trainer" })
        {
            var pod = Deployment(objects, name).Spec.Template.Spec;
            var volume = pod.Volumes.Single(v => v.PersistentVolumeClaim?.ClaimName == SampleDeployments.DataClaim);
            Assert.Equal("/data", pod.Containers[0].VolumeMounts.Single(m => m.Name == volume.Name).MountPath);
        }
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(2, 8)]
    public void KedaScalesTheTrainerOnTheTrainingStreamGroupLag(int min, int max)
    {
        var objects = Objects(SampleDeployments.Small(min: min, max: max));
        var scaled = objects.OfType<KedaScaledObject>().Single();
        Assert.Equal(("apps/v1", "Deployment", "trainer"), (scaled.Spec.ScaleTargetRef.ApiVersion, scaled.Spec.ScaleTargetRef.Kind, scaled.Spec.ScaleTargetRef.Name));
        Assert.Equal(min, scaled.Spec.MinReplicaCount);
        Assert.Equal(max, scaled.Spec.MaxReplicaCount);
        Assert.Equal(2, scaled.Spec.Triggers.Count);
        var waiting = scaled.Spec.Triggers.Single(t => t.Name == KubernetesObjectFactory.WaitingTrigger);
        var running = scaled.Spec.Triggers.Single(t => t.Name == KubernetesObjectFactory.RunningTrigger);
        foreach (var trigger in scaled.Spec.Triggers)
        {
            Assert.Equal("redis-streams", trigger.Type);
            Assert.Equal("ft:train:jobs", trigger.Metadata["stream"]);
            Assert.Equal("trainers", trigger.Metadata["consumerGroup"]);
            Assert.Equal("redis:6379", trigger.Metadata["address"]);
            Assert.DoesNotContain("password", trigger.Metadata.Keys);
            var auth = objects.OfType<KedaTriggerAuthentication>().Single(a => a.Metadata.Name == trigger.AuthenticationRef!.Name);
            var secretRef = Assert.Single(auth.Spec.SecretTargetRef);
            Assert.Equal(("password", SampleDeployments.SecretName, "redis-password"), (secretRef.Parameter, secretRef.Name, secretRef.Key));
        }
        Assert.Equal("1", waiting.Metadata["lagCount"]);          // jobs not yet delivered to any trainer
        Assert.Equal("1", running.Metadata["pendingEntriesCount"]); // jobs delivered and still in training
        // replicas follow waiting + running, so a busy trainer is not scaled away when the queue empties
        Assert.Equal("waiting + running", scaled.Spec.Advanced!.ScalingModifiers!.Formula);
        Assert.Equal("1", scaled.Spec.Advanced.ScalingModifiers.Target);
        Assert.Empty(objects.OfType<V2HorizontalPodAutoscaler>());
    }

    [Fact]
    public void HpaReplacesKedaWhenChosenAndNeitherIsWrittenForNone()
    {
        var hpaObjects = Objects(SampleDeployments.Small(min: 0, max: 5), AutoscalerKind.Hpa);
        Assert.Empty(hpaObjects.OfType<KedaScaledObject>());
        Assert.Empty(hpaObjects.OfType<KedaTriggerAuthentication>());
        var hpa = hpaObjects.OfType<V2HorizontalPodAutoscaler>().Single();
        Assert.Equal("trainer", hpa.Spec.ScaleTargetRef.Name);
        Assert.Equal(1, hpa.Spec.MinReplicas); // an HPA cannot scale to zero
        Assert.Equal(5, hpa.Spec.MaxReplicas);

        var none = Objects(SampleDeployments.Small(), AutoscalerKind.None);
        Assert.Empty(none.OfType<KedaScaledObject>());
        Assert.Empty(none.OfType<V2HorizontalPodAutoscaler>());
    }

    [Fact]
    public void LiteralEnvGoesToTheConfigMapAndSecretsOnlyAsSecretKeyRefs()
    {
        var objects = Objects(SampleDeployments.Small());
        var configMap = objects.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "trainer-env");
        Assert.Equal("/data", configMap.Data["FineTune__DataRoot"]);
        Assert.DoesNotContain("REDIS_PASSWORD", configMap.Data.Keys);
        Assert.DoesNotContain("ConnectionStrings__redis", configMap.Data.Keys);

        var container = Deployment(objects, "trainer").Spec.Template.Spec.Containers[0];
        Assert.Equal("trainer-env", container.EnvFrom.Single().ConfigMapRef.Name);
        var password = container.Env.Single(e => e.Name == "REDIS_PASSWORD");
        Assert.Null(password.Value);
        Assert.Equal((SampleDeployments.SecretName, "redis-password"), (password.ValueFrom.SecretKeyRef.Name, password.ValueFrom.SecretKeyRef.Key));
        // $(VAR) expansion needs the referenced variable earlier in the same env list
        var names = container.Env.Select(e => e.Name).ToList();
        Assert.True(names.IndexOf("REDIS_PASSWORD") < names.IndexOf("ConnectionStrings__redis"));
        Assert.True(names.IndexOf("POD_NAME") < names.IndexOf("OTEL_RESOURCE_ATTRIBUTES"));
    }
}
