using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Tests;

public sealed class WaitForTests
{
    [Fact]
    public async Task DependantStartsOnlyAfterItsDependencyIsHealthy()
    {
        await using var model = new TestAppModel();
        var gate = Path.Combine(model.StateDirectory, "gate");
        var slow = model.Builder.AddProject("slow", TestAppModel.EchoProject)
            .WithEnvironment("ECHO_HEALTH_GATE_FILE", gate);
        model.Builder.AddProject("fast", TestAppModel.EchoProject)
            .WithReference(slow).WaitFor(slow);

        var start = model.App.StartAsync();

        // slow runs and has answered its health check "unhealthy" at least twice…
        await Eventually.UntilAsync(
            () => model.States.GetConsoleLogs("slow").Count(l => l.Text.Contains("health gate closed")) >= 2,
            TimeSpan.FromSeconds(90), "slow to report its closed health gate twice");
        Assert.Equal("Unhealthy", model.Resource("slow").HealthStatus);
        Assert.NotNull(model.Resource("slow").Instances.Single().ProcessId);

        // …and fast has no process yet: it waits.
        var fast = model.Resource("fast");
        Assert.Equal("Waiting", fast.State);
        Assert.All(fast.Instances, i => Assert.Null(i.ProcessId));
        Assert.False(start.IsCompleted);

        var opened = DateTimeOffset.UtcNow;
        await File.WriteAllTextAsync(gate, "open");
        await start.WaitAsync(TimeSpan.FromSeconds(90));

        var started = model.Resource("fast").Instances.Single();
        Assert.NotNull(started.ProcessId);
        Assert.True(started.StartedAt > opened, $"fast started at {started.StartedAt:O}, before slow became healthy (gate opened {opened:O})");
        Assert.Equal("Healthy", model.Resource("slow").HealthStatus);
    }
}
