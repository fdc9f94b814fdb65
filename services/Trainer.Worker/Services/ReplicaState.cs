namespace Trainer.Worker.Services;

/// <summary>
/// What this replica is doing now, for its heartbeat (the job, the device, and in a data-parallel job its role, rank and
/// group generation), plus the one work slot: a replica runs one job or serves in one group at a time.
/// </summary>
public sealed class ReplicaState
{
    private readonly SemaphoreSlim _slot = new(1, 1);
    private volatile Snapshot _now = new(null, "cpu", "", -1, 0);

    public sealed record Snapshot(string? JobId, string Device, string Role, int Rank, long Generation);

    public Snapshot Now => _now;
    public string? JobId => _now.JobId;
    public string Device => _now.Device;

    /// <summary>True when no job or group membership holds the slot.</summary>
    public bool IsFree => _slot.CurrentCount > 0;

    public Task EnterAsync(CancellationToken cancellationToken) => _slot.WaitAsync(cancellationToken);
    public bool TryEnter() => _slot.Wait(0);
    public void Exit() => _slot.Release();

    /// <summary>Waits until the slot is free, without taking it.</summary>
    public async Task WaitFreeAsync(CancellationToken cancellationToken)
    {
        await _slot.WaitAsync(cancellationToken);
        _slot.Release();
    }

    public void Running(string jobId, string device) => _now = new(jobId, device, "", -1, 0);

    /// <summary>In a data-parallel group: rank 0 is the coordinator, the others members.</summary>
    public void InGroup(string jobId, string device, int rank, long generation) =>
        _now = new(jobId, device, rank == 0 ? "coordinator" : "member", rank, generation);

    public void Idle() => _now = _now with { JobId = null, Role = "", Rank = -1, Generation = 0 };
}
