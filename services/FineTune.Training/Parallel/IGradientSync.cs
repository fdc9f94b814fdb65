namespace FineTune.Training.Parallel;

/// <summary>
/// The data-parallel seam of <see cref="Training.SftTrainer"/>: once per optimizer step, after its share of the backward
/// passes, every member of a group hands in its <see cref="GradientShard"/> and gets back the sum over all members, reduced
/// in rank order so that every member receives bit-identical gradients and stays in lockstep.
/// <see cref="LocalGradientSync"/> is the single-replica case (nothing to exchange).
/// </summary>
public interface IGradientSync
{
    /// <summary>This member's position in the group, 0 = the coordinator (the only one that evaluates and writes checkpoints).</summary>
    int Rank { get; }

    /// <summary>Members in the group (K).</summary>
    int WorldSize { get; }

    /// <summary>Σ over the members' shards of <paramref name="step"/> (0-based optimizer step), in rank order.</summary>
    ValueTask<GradientShard> AllReduceAsync(int step, GradientShard local, CancellationToken cancellationToken);
}

/// <summary>One replica, no exchange: the sum of one shard is the shard.</summary>
public sealed class LocalGradientSync : IGradientSync
{
    public static readonly LocalGradientSync Instance = new();

    public int Rank => 0;
    public int WorldSize => 1;

    public ValueTask<GradientShard> AllReduceAsync(int step, GradientShard local, CancellationToken cancellationToken) => ValueTask.FromResult(local);
}
