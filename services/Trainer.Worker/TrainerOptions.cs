namespace Trainer.Worker;

/// <summary>Configuration section "Trainer" (env Trainer__*), plus the shared data root (FineTune:DataRoot).</summary>
public sealed class TrainerOptions
{
    /// <summary>How long a job's lease lasts without renewal: a replica that stops renewing (killed) loses the job after this.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a replica looks for expired leases to take over.</summary>
    public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries of one job that may fail before it goes to the dead-letter stream.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Heartbeat period; the heartbeat key lives three periods.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Intra-op threads per replica (0 = libtorch's default). A job's own training.threads wins when set.</summary>
    public int Threads { get; set; }

    /// <summary>Data-parallel jobs: how long the coordinator waits for invited replicas to join before it trains with those present.</summary>
    public TimeSpan RecruitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Data-parallel jobs short of members (one was lost): at each checkpoint, when a free trainer replica exists, the coordinator
    /// invites the missing members back and waits this long for them before training on with those present.
    /// </summary>
    public TimeSpan GrowTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Data-parallel jobs: the longest wait for the other members' gradients of one step, even from members whose heartbeat is alive.</summary>
    public TimeSpan SyncTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Checkpoint every N steps when the job does not say (so a takeover loses little work).</summary>
    public int DefaultSaveSteps { get; set; } = 10;
}
