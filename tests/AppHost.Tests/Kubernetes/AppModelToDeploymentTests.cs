using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using FineTune.AppHost.Infrastructure;
using FineTune.AppHost.Publishing;
using FineTune.AppHost.Publishing.Kubernetes;
using Microsoft.Extensions.DependencyInjection;
using TempDirectory = FineTune.Tests.TempDirectory;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>The app-model-to-deployment mapping on small real Aspire app models (publish mode, built but not run).</summary>
public sealed class AppModelToDeploymentTests : IDisposable
{
    /// <summary>Any project file: publish mode only reads its path.</summary>
    private static readonly string EchoProject = Path.Combine(Repo.Root, "services", "Dataset.Api", "Dataset.Api.csproj");

    private readonly TempDirectory _state = new("ft-k8s-model");
    private readonly IDistributedApplicationBuilder _builder;

    public AppModelToDeploymentTests() =>
        _builder = DistributedApplication.CreateBuilder(["--publisher", "manifest", "--output-path", Path.Combine(Path.GetTempPath(), "unused-manifest.json")]);

    public void Dispose() => _state.Dispose();

    private DeploymentDescription Map(KubernetesPublishOptions? options = null)
    {
        using var app = _builder.Build();
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var manifest = AspireManifest.WriteAsync(model, app.Services.GetRequiredService<DistributedApplicationExecutionContext>(), _state.Path, default)
            .GetAwaiter().GetResult();
        return AppModelToDeployment.Map(model, manifest, options ?? new KubernetesPublishOptions());
    }

    private static WorkloadSpec Workload(DeploymentDescription d, string name) => d.Workloads.Single(w => w.Name == name);

    private static EnvEntry Env(WorkloadSpec w, string name) => w.Env.Single(e => e.Name == name);

    [Fact]
    public void ReferencesBecomeClusterAddressesAndParametersSecretReferences()
    {
        var cache = _builder.AddRedis("cache");
        var api = _builder.AddProject("api", EchoProject).WithHttpEndpoint(name: "http").WithReference(cache);
        _builder.AddProject("web", EchoProject).WithReference(api)
            .WithEnvironment("CACHE_PASSWORD", ReferenceExpression.Create($"{cache.Resource.PasswordParameter!}"))
            .WithEnvironment("CACHE_URI", ReferenceExpression.Create($"redis://:{cache.Resource.PasswordParameter!}@{cache.Resource.PrimaryEndpoint.Property(EndpointProperty.Host)}:{cache.Resource.PrimaryEndpoint.Property(EndpointProperty.Port)}"));

        var d = Map();
        var web = Workload(d, "web");
        Assert.Equal(EnvEntry.Literal("services__api__http__0", "http://api:8080"), Env(web, "services__api__http__0"));
        Assert.Equal(EnvEntry.FromSecret("CACHE_PASSWORD", "cache-password"), Env(web, "CACHE_PASSWORD"));
        // embedded in a longer value: the existing secret variable is reused through $(…)
        Assert.Equal(EnvEntry.Composed("CACHE_URI", "redis://:$(CACHE_PASSWORD)@cache:6379"), Env(web, "CACHE_URI"));
        var names = web.Env.Select(e => e.Name).ToList();
        Assert.True(names.IndexOf("CACHE_PASSWORD") < names.IndexOf("CACHE_URI"));

        var apiWorkload = Workload(d, "api");
        Assert.Equal(EnvEntry.Composed("ConnectionStrings__cache", "cache:6379,password=$(FT_SECRET_CACHE_PASSWORD)"), Env(apiWorkload, "ConnectionStrings__cache"));
        Assert.Equal(EnvEntry.FromSecret("FT_SECRET_CACHE_PASSWORD", "cache-password"), Env(apiWorkload, "FT_SECRET_CACHE_PASSWORD"));
        Assert.Equal(["cache-password"], d.SecretKeys.Select(k => k.Key));
        Assert.Equal(WorkloadKind.StatefulSet, Workload(d, "cache").Kind);
    }

    [Theory]
    [InlineData(2, 1, 4, 2)]
    [InlineData(1, 3, 6, 3)]  // below min: raised to min
    [InlineData(9, 0, 4, 4)]  // above max: lowered to max
    [InlineData(1, 0, 4, 1)]  // min 0 (scale to zero): starts with one
    public void ReplicasStartWithinTheScalingRange(int replicas, int min, int max, int expected)
    {
        var cache = _builder.AddRedis("cache");
        _builder.AddProject("worker", EchoProject).WithReference(cache).WithReplicas(replicas)
            .WithAutoscaling(min, max, "jobs", "workers");
        var worker = Workload(Map(), "worker");
        Assert.Equal(expected, worker.Replicas);
        Assert.Equal((min, max, "jobs", "workers", "cache:6379", "cache-password"),
            (worker.Scaling!.MinReplicas, worker.Scaling.MaxReplicas, worker.Scaling.Stream, worker.Scaling.ConsumerGroup, worker.Scaling.RedisAddress, worker.Scaling.PasswordSecretKey));
    }

    [Fact]
    public void AutoscalingWithoutARedisReferenceIsRefusedNamingTheResource()
    {
        _builder.AddProject("lonely", EchoProject).WithAutoscaling(1, 2, "jobs", "workers");
        var e = Assert.Throws<InvalidOperationException>(() => Map());
        Assert.Contains("lonely", e.Message);
        Assert.Contains("WithReference", e.Message);
    }

    [Fact]
    public void ExecutablesAreRefusedNamingTheResource()
    {
        _builder.AddExecutable("tool", "echo", ".");
        var e = Assert.Throws<InvalidOperationException>(() => Map());
        Assert.Contains("tool", e.Message);
    }

    [Fact]
    public void BadAnnotationValuesAreRefusedWhenTheModelIsBuilt()
    {
        var p = _builder.AddProject("p", EchoProject);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.WithAutoscaling(3, 2, "s", "g"));
        Assert.Throws<ArgumentOutOfRangeException>(() => p.WithGpu(0));
        Assert.Contains("cpuRequest", Assert.Throws<ArgumentException>(() => p.WithComputeResources(cpuRequest: "two")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => p.WithTerminationGracePeriod(TimeSpan.FromMilliseconds(1500)));
        Assert.Throws<ArgumentException>(() => p.WithToleration("k", effect: "Sometimes"));
    }

    [Fact]
    public void SharedDataClaimTakesItsSizeAndClassFromTheOptions()
    {
        var data = _builder.AddSharedData("data");
        _builder.AddProject("a", EchoProject).WithSharedData(data);
        var fromOptions = Map(new KubernetesPublishOptions { StorageClass = "efs", DataVolumeSize = "5Ti" }).SharedClaims.Single();
        Assert.Equal(new ClaimSpec("finetune-data", "ReadWriteMany", "5Ti", "efs"), fromOptions);
    }
}
