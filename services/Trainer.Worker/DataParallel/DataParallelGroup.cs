namespace Trainer.Worker.DataParallel;

/// <summary>
/// One generation of a job's data-parallel group: the replicas (instance ids) in rank order, rank 0 the coordinator.
/// A new generation starts whenever the membership changes; its keys are new, so nothing of an old generation is mixed in.
/// </summary>
public sealed record DataParallelGroup(string JobId, long Generation, IReadOnlyList<string> Members)
{
    public int Size => Members.Count;
    public string Coordinator => Members[0];
    public int RankOf(string instanceId) => Members.ToList().IndexOf(instanceId);
    public override string ToString() => $"{JobId} generation {Generation}: {string.Join(", ", Members)}";
}

/// <summary>Members of the group stopped answering (killed, drained, stuck past the sync timeout): the coordinator regroups.</summary>
public sealed class MemberLostException(int step, IReadOnlyList<int> ranks, string reason)
    : Exception($"rank(s) {string.Join(", ", ranks)} lost at step {step + 1}: {reason}")
{
    public int Step { get; } = step;
    public IReadOnlyList<int> Ranks { get; } = ranks;
}

/// <summary>The group this member trains in is over: a newer generation was formed, the job ended, or its coordinator is gone.</summary>
public sealed class GroupChangedException(string reason) : Exception(reason);
