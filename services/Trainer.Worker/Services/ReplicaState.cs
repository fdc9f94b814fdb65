namespace Trainer.Worker.Services;

/// <summary>What this replica is doing now, for its heartbeat: the job it runs and the device.</summary>
public sealed class ReplicaState
{
    private volatile string? _jobId;
    private volatile string _device = "cpu";

    public string? JobId => _jobId;
    public string Device => _device;

    public void Running(string jobId, string device)
    {
        _device = device;
        _jobId = jobId;
    }

    public void Idle() => _jobId = null;
}
