using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Tests;

public sealed class RestartTests
{
    [Fact]
    public async Task KilledProcessIsRestartedAndTheRestartIsCounted()
    {
        await using var model = new TestAppModel();
        model.Builder.AddProject("echo", TestAppModel.EchoProject);
        await model.App.StartAsync();

        var before = model.Resource("echo").Instances.Single();
        Assert.Equal(0, before.Restarts);
        var firstPid = before.ProcessId!.Value;

        ProcessTree.Signal(firstPid, ProcessTree.SIGKILL);

        var after = await Eventually.UntilAsync(() =>
        {
            var snapshot = model.Resource("echo");
            var instance = snapshot.Instances.Single();
            return instance is { Restarts: 1, ProcessId: not null } && instance.ProcessId != firstPid && snapshot.HealthStatus == "Healthy"
                ? instance
                : null;
        }, TimeSpan.FromSeconds(60), "echo to be restarted once and healthy again");

        Assert.Equal(before.InstanceId, after.InstanceId);
        var reply = await TestAppModel.EchoAsync(after.Endpoint!);
        Assert.Equal(after.ProcessId, reply.Pid);
        Assert.Equal($"service.instance.id={before.InstanceId}", reply.Environment["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.False(ProcessTree.IsAlive(firstPid));
    }

    [Fact]
    public async Task StopAndStartCommandsStopWithoutRestartAndStartAgain()
    {
        await using var model = new TestAppModel();
        model.Builder.AddProject("echo", TestAppModel.EchoProject);
        await model.App.StartAsync();
        var pid = model.Resource("echo").Instances.Single().ProcessId!.Value;

        await model.States.ExecuteCommandAsync("echo", "stop", CancellationToken.None);
        var stopped = model.Resource("echo");
        Assert.Equal("Exited", stopped.State);
        Assert.Null(stopped.Instances.Single().ProcessId);
        Assert.False(ProcessTree.IsAlive(pid));

        await model.States.ExecuteCommandAsync("echo", "start", CancellationToken.None);
        await Eventually.UntilAsync(() => model.Resource("echo").HealthStatus == "Healthy", TimeSpan.FromSeconds(60), "echo healthy after start");
        Assert.Equal(0, model.Resource("echo").Instances.Single().Restarts);

        await Assert.ThrowsAsync<ArgumentException>(() => model.States.ExecuteCommandAsync("echo", "explode", CancellationToken.None));
    }
}
