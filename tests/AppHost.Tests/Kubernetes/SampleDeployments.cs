using FineTune.AppHost.Publishing.Kubernetes;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>Deployment descriptions built by hand, independent of the app model, for the object factory and writer tests.</summary>
internal static class SampleDeployments
{
    public const string SecretName = "finetune-parameters";
    public const string DataClaim = "ft-data";

    /// <summary>A trainer with GPUs and queue scaling, Redis as a StatefulSet with a per-pod volume, one plain API.</summary>
    public static DeploymentDescription Small(int trainerReplicas = 2, int gpus = 1, int min = 1, int max = 6)
    {
        var data = new ClaimSpec(DataClaim, "ReadWriteMany", "100Gi", "nfs-csi");
        var dataMount = new VolumeMountSpec("data", data, "/data", PerPod: false, ReadOnly: false);
        var http = new PortSpec("http", 8080, Expose: true);
        var alive = new ProbeSpec(ProbeKind.HttpGet, "/alive", "http", 10, 10, 3);
        var health = new ProbeSpec(ProbeKind.HttpGet, "/health", "http", 5, 10, 3);
        EnvEntry[] projectEnv =
        [
            EnvEntry.Literal("HTTP_PORTS", "8080"),
            EnvEntry.Literal("FineTune__DataRoot", "/data"),
            EnvEntry.FromSecret("REDIS_PASSWORD", "redis-password"),
            EnvEntry.Composed("ConnectionStrings__redis", "redis:6379,password=$(REDIS_PASSWORD)"),
            EnvEntry.FromPodField("POD_NAME", "metadata.name"),
            EnvEntry.Composed("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=$(POD_NAME)"),
        ];
        var redis = new WorkloadSpec("redis", "container", WorkloadKind.StatefulSet, "docker.io/library/redis:8.6",
            ["redis-server"], ["--appendonly", "yes", "--requirepass", "$(REDIS_PASSWORD)"], 1, null, 0, ComputeResources.None,
            [EnvEntry.FromSecret("REDIS_PASSWORD", "redis-password")],
            [new PortSpec("tcp", 6379, Expose: true)],
            new ProbeSpec(ProbeKind.TcpSocket, null, "tcp", 10, 10, 3),
            new ProbeSpec(ProbeKind.Exec, "redis-cli --no-auth-warning -a \"$REDIS_PASSWORD\" ping | grep -q PONG", null, 5, 10, 3),
            [new VolumeMountSpec("data", new ClaimSpec("data", "ReadWriteOnce", "8Gi", null), "/data", PerPod: true, ReadOnly: false)],
            null, [], new Dictionary<string, string>(), RecreateOnUpdate: false);
        var api = new WorkloadSpec("dataset", "project", WorkloadKind.Deployment, "finetune/dataset:latest", null, [], 1, null, 0,
            new ComputeResources("250m", "256Mi", null, "1Gi"), projectEnv, [http], alive, health, [dataMount], null, [],
            new Dictionary<string, string>(), RecreateOnUpdate: false);
        var trainer = new WorkloadSpec("trainer", "project", WorkloadKind.Deployment, gpus > 0 ? "finetune/trainer:latest-cuda" : "finetune/trainer:latest", null, [], trainerReplicas,
            new ScalingSpec(min, max, "ft:train:jobs", "trainers", 1, "redis:6379", "redis-password"), gpus,
            new ComputeResources("2", "8Gi", null, "16Gi"), projectEnv, [http], alive, health, [dataMount], 600,
            [new TolerationSpec("nvidia.com/gpu", null, "NoSchedule")],
            new Dictionary<string, string> { ["node.kubernetes.io/instance-type"] = "gpu" }, RecreateOnUpdate: false);
        return new DeploymentDescription("finetune", [redis, api, trainer], SecretName,
            [new SecretKeySpec("redis-password", "Redis password: e.g. openssl rand -hex 24")], [data]);
    }
}
