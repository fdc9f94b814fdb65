using System.Net;
using System.Net.Sockets;
using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Tests;

/// <summary>Bad input and failure: one clear line naming the resource and the cause, and nothing left running.</summary>
public sealed class FailureTests
{
    [Fact]
    public async Task MissingRedisServerIsOneLineSayingHowToInstallIt()
    {
        using var state = new TempDirectory("ft-apphost");
        using var empty = new TempDirectory("ft-path");
        using var apphost = new AppHostProcess("redis", state.Path, new Dictionary<string, string> { ["PATH"] = empty.Path });

        var exitCode = await apphost.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exitCode);
        var errors = apphost.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(errors);
        Assert.StartsWith("redis: redis-server was not found on PATH", line);
        Assert.Contains("apt-get install -y redis-server", line);
    }

    [Fact]
    public async Task ServiceThatNeverBecomesHealthyStopsEverythingStarted()
    {
        await using var model = new TestAppModel("--AppHost:HealthTimeoutSeconds=10");
        var redis = model.Builder.AddRedis("redis");
        model.Builder.AddProject("stuck", TestAppModel.EchoProject)
            .WithEnvironment("ECHO_HEALTH_GATE_FILE", Path.Combine(model.StateDirectory, "never"))
            .WithReference(redis).WaitFor(redis);
        var seen = new HashSet<int>();
        var app = model.App;
        var start = app.StartAsync();
        app.ResourceStates.ResourceChanged += snapshot =>
        {
            lock (seen)
                foreach (var instance in snapshot.Instances)
                    if (instance.ProcessId is int pid)
                        seen.Add(pid);
        };

        var failure = await Assert.ThrowsAsync<AppHostException>(() => start);

        Assert.StartsWith("stuck: never became healthy within 10s (GET http://localhost:", failure.Message);
        Assert.Contains("/health", failure.Message); // the cause: what the probe last saw (503, or no answer at all)
        lock (seen)
        {
            Assert.NotEmpty(seen);
            Assert.All(seen, pid => Assert.False(ProcessTree.IsAlive(pid), $"process {pid} still runs"));
        }
        Assert.All(model.States.GetResources().SelectMany(r => r.Instances), i => Assert.Null(i.ProcessId));
    }

    [Fact]
    public async Task FixedPortInUseNamesTheResourceAndThePort()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        await using var model = new TestAppModel();
        model.Builder.AddExecutable("web", "sleep", ".", "60").WithHttpEndpoint(port: port);

        var failure = await Assert.ThrowsAsync<AppHostException>(() => model.App.StartAsync());

        Assert.Equal($"web: port {port} (endpoint 'http') is already in use.", failure.Message);
    }

    [Fact]
    public async Task ProjectThatFailsToBuildNamesTheResourceAndTheCompilerError()
    {
        using var broken = new TempDirectory("ft-broken");
        await File.WriteAllTextAsync(broken.File("Broken.csproj"),
            "<Project Sdk=\"Microsoft.NET.Sdk\"><PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup></Project>");
        await File.WriteAllTextAsync(broken.File("Program.cs"), "System.Console.WriteLine(undefinedName);\n");
        await using var model = new TestAppModel();
        model.Builder.AddProject("broken", broken.File("Broken.csproj"));

        var failure = await Assert.ThrowsAsync<AppHostException>(() => model.App.StartAsync());

        Assert.StartsWith("broken: project failed to build (Broken.csproj): ", failure.Message);
        Assert.Contains("error CS0103", failure.Message);
        Assert.DoesNotContain('\n', failure.Message);
    }

    [Fact]
    public async Task UnavailableOllamaDoesNotStopTheOthers()
    {
        // No Docker engine, no ollama on PATH here, and no Ollama:Endpoint: ollama is shown unavailable, echo still runs.
        await using var model = new TestAppModel();
        var ollama = model.Builder.AddOllama("ollama");
        model.Builder.AddProject("export", TestAppModel.EchoProject).WithReference(ollama).WaitFor(ollama);
        if (FineTune.AppHost.Hosting.Runner.PathLookup.Find("ollama") is not null)
            return; // an ollama binary is installed: the unavailable path cannot be exercised on this machine

        await model.App.StartAsync();

        var snapshot = model.Resource("ollama");
        Assert.Equal("Unavailable", snapshot.State);
        Assert.Contains("not on PATH", snapshot.StateReason);
        var export = await TestAppModel.EchoAsync(model.Resource("export").Instances.Single().Endpoint!);
        Assert.False(export.Environment.ContainsKey("ConnectionStrings__ollama"));
    }

    [Fact]
    public async Task ExternalOllamaEndpointFromConfigurationIsUsedAndProbed()
    {
        // The one stand-in allowed: an HTTP stub of Ollama's documented root endpoint ("Ollama is running").
        using var stub = new HttpListener();
        var port = FreePort.Next();
        stub.Prefixes.Add($"http://127.0.0.1:{port}/");
        stub.Start();
        _ = Task.Run(async () =>
        {
            while (stub.IsListening)
            {
                var context = await stub.GetContextAsync();
                var body = "Ollama is running"u8.ToArray();
                context.Response.StatusCode = 200;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        await using var model = new TestAppModel($"--Ollama:Endpoint=http://127.0.0.1:{port}");
        var ollama = model.Builder.AddOllama("ollama");
        model.Builder.AddProject("export", TestAppModel.EchoProject).WithReference(ollama).WaitFor(ollama);

        await model.App.StartAsync();

        Assert.Equal("Healthy", model.Resource("ollama").HealthStatus);
        var export = await TestAppModel.EchoAsync(model.Resource("export").Instances.Single().Endpoint!);
        Assert.Equal($"Endpoint=http://127.0.0.1:{port}", export.Environment["ConnectionStrings__ollama"]);
    }
}
