namespace FineTune.Tests;

/// <summary>
/// One real trainer replica: the Trainer.Worker program as a child process (<see cref="ServiceProcess"/>) with the
/// environment the AppHost gives it, plus short lease, claim and heartbeat intervals so tests see takeovers quickly.
/// Usable from a test project that references Trainer.Worker (so Trainer.Worker.dll sits in the test output).
/// </summary>
public sealed class TrainerReplica : IDisposable
{
    private readonly ServiceProcess _process;

    private TrainerReplica(string instanceId, ServiceProcess process)
    {
        InstanceId = instanceId;
        _process = process;
    }

    public string InstanceId { get; }
    public int ProcessId => _process.ProcessId;
    public bool HasExited => _process.HasExited;
    public string Output => _process.Output;

    public static TrainerReplica Start(string instanceId, string redisConnectionString, string dataRoot, TimeSpan lease,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Trainer__LeaseTime"] = lease.ToString("c"),
            ["Trainer__ClaimInterval"] = TimeSpan.FromMilliseconds(250).ToString("c"),
            ["Trainer__HeartbeatInterval"] = TimeSpan.FromSeconds(1).ToString("c"),
            ["Trainer__MaxAttempts"] = "2",
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) settings[name] = value;
        return new TrainerReplica(instanceId,
            ServiceProcess.Start("Trainer.Worker", "trainer", redisConnectionString, dataRoot, settings, instanceId));
    }

    /// <summary>kill -9: no chance to checkpoint or release anything.</summary>
    public void KillHard() => _process.KillHard();

    /// <summary>SIGTERM, as Kubernetes sends on a drain; waits for the process to exit.</summary>
    public Task TerminateAsync(TimeSpan timeout) => _process.TerminateAsync(timeout);

    public void Dispose() => _process.Dispose();
}
