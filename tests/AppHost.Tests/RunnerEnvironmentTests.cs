using FineTune.AppHost.Hosting;
using StackExchange.Redis;

namespace FineTune.AppHost.Tests;

/// <summary>
/// One real run shared by the tests of this class: a real redis-server, the echo app with 2 replicas (waiting for
/// redis) and a client echo that references it. Each test reads what a process really received through /env.
/// </summary>
public sealed class RunnerEnvironmentTests(RunnerEnvironmentTests.Fixture fixture) : IClassFixture<RunnerEnvironmentTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        public TestAppModel Model { get; } = new();

        public IReadOnlyList<(InstanceSnapshot Instance, EchoReply Reply)> Replicas { get; private set; } = [];

        public EchoReply Client { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            var builder = Model.Builder;
            var redis = builder.AddRedis("redis").WithPersistence();
            var data = builder.AddSharedVolume("data");
            var echo = builder.AddProject("echo", TestAppModel.EchoProject)
                .WithReplicas(2)
                .WithReference(redis).WaitFor(redis)
                .WithSharedVolume(data)
                .WithEnvironment("ECHO_GREETING", "hello");
            builder.AddProject("client", TestAppModel.EchoProject)
                .WithReference(echo).WaitFor(echo);

            await Model.App.StartAsync();
            var replicas = new List<(InstanceSnapshot, EchoReply)>();
            foreach (var instance in Model.Resource("echo").Instances)
                replicas.Add((instance, await TestAppModel.EchoAsync(instance.Endpoint!)));
            Replicas = replicas;
            Client = await TestAppModel.EchoAsync(Model.Resource("client").Instances.Single().Endpoint!);
        }

        public async Task DisposeAsync() => await Model.DisposeAsync();
    }

    [Fact]
    public void EachReplicaIsItsOwnProcessWithDistinctInstanceIdAndPort()
    {
        Assert.Equal(2, fixture.Replicas.Count);
        foreach (var (instance, reply) in fixture.Replicas)
        {
            Assert.Equal(instance.ProcessId, reply.Pid);
            Assert.Equal($"service.instance.id={instance.InstanceId}", reply.Environment["OTEL_RESOURCE_ATTRIBUTES"]);
            Assert.Equal("echo", reply.Environment["OTEL_SERVICE_NAME"]);
            Assert.Equal(instance.Endpoint, reply.Environment["ASPNETCORE_URLS"]);
            Assert.Equal("Running", instance.State);
        }
        Assert.NotEqual(fixture.Replicas[0].Instance.InstanceId, fixture.Replicas[1].Instance.InstanceId);
        Assert.NotEqual(fixture.Replicas[0].Reply.Environment["ASPNETCORE_URLS"], fixture.Replicas[1].Reply.Environment["ASPNETCORE_URLS"]);
        Assert.NotEqual(fixture.Replicas[0].Reply.Pid, fixture.Replicas[1].Reply.Pid);
    }

    [Fact]
    public async Task InjectedConnectionStringReachesTheRealRedis()
    {
        var connectionString = fixture.Replicas[0].Reply.Environment["ConnectionStrings__redis"]!;
        Assert.Contains(",password=", connectionString);
        Assert.Equal(connectionString, fixture.Replicas[1].Reply.Environment["ConnectionStrings__redis"]);

        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString + ",allowAdmin=true");
        var db = redis.GetDatabase();
        await db.StringSetAsync("apphost-test", "ok");
        Assert.Equal("ok", (string?)await db.StringGetAsync("apphost-test"));
        var info = await redis.GetServer(redis.GetEndPoints()[0]).InfoAsync("persistence");
        Assert.Contains(info.SelectMany(g => g), kv => kv.Key == "aof_enabled" && kv.Value == "1");
    }

    [Fact]
    public void ReferenceGivesEveryReplicaAddressForServiceDiscovery()
    {
        var env = fixture.Client.Environment;
        var injected = new[] { env["services__echo__http__0"], env["services__echo__http__1"] };
        Assert.Equal(fixture.Replicas.Select(r => r.Instance.Endpoint).Order(), injected.Order());
        Assert.False(env.ContainsKey("services__echo__http__2"));
        Assert.False(env.ContainsKey("ConnectionStrings__redis")); // the client does not reference redis
    }

    [Fact]
    public void AspireTelemetryAndConsoleConventionsAreInjected()
    {
        var env = fixture.Replicas[0].Reply.Environment;
        Assert.Equal("http://localhost:18889", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal("in_memory", env["OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"]);
        Assert.Equal("1000", env["OTEL_BSP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_BLRP_SCHEDULE_DELAY"]);
        Assert.Equal("1000", env["OTEL_METRIC_EXPORT_INTERVAL"]);
        Assert.Equal("always_on", env["OTEL_TRACES_SAMPLER"]);
        Assert.Equal("true", env["DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION"]);
        Assert.Equal("simple", env["LOGGING__CONSOLE__FORMATTERNAME"]);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("hello", env["ECHO_GREETING"]);
    }

    [Fact]
    public void SharedDataRootIsAnExistingFolderUnderTheStateDirectory()
    {
        var root = fixture.Replicas[0].Reply.Environment["FineTune__DataRoot"];
        Assert.Equal(Path.Combine(fixture.Model.StateDirectory, "data"), root);
        Assert.True(Directory.Exists(root));
        Assert.False(fixture.Client.Environment.ContainsKey("FineTune__DataRoot"));
    }

    [Fact]
    public void ConsoleLinesAreKeptPerInstance()
    {
        var (instance, _) = fixture.Replicas[0];
        var port = new Uri(instance.Endpoint!).Port;
        var lines = fixture.Model.States.GetConsoleLogs("echo", instance.InstanceId);
        Assert.All(lines, l => Assert.Equal(instance.InstanceId, l.InstanceId));
        Assert.Contains(lines, l => l.Text.Contains($"localhost:{port}"));
        var other = fixture.Replicas[1].Instance;
        Assert.DoesNotContain(lines, l => l.Text.Contains($"localhost:{new Uri(other.Endpoint!).Port}"));
    }

    [Fact]
    public void SnapshotsReportHealthAndTypes()
    {
        var resources = fixture.Model.States.GetResources();
        Assert.Equal(["redis-password", "redis", "echo", "client"], resources.Select(r => r.Name));
        var redis = resources.Single(r => r.Name == "redis");
        Assert.Contains(redis.Type, new[] { "executable", "container" }); // redis-server from PATH without a Docker engine
        Assert.Equal("Healthy", redis.HealthStatus);
        Assert.Equal("Healthy", resources.Single(r => r.Name == "echo").HealthStatus);
        Assert.Equal("parameter", resources.Single(r => r.Name == "redis-password").Type);
    }
}
