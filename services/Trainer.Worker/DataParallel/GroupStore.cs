using System.Globalization;
using FineTune.Messaging;
using StackExchange.Redis;

namespace Trainer.Worker.DataParallel;

/// <summary>
/// The Redis side of data-parallel membership (docs/streams.md, "Data-parallel jobs"): the group hash <c>ft:dp:{jobId}</c>
/// (generation, coordinator, members, requested, status), invitations on <c>ft:train:join</c>, the joined and welcome lists.
/// </summary>
public sealed class GroupStore(IConnectionMultiplexer redis)
{
    public const string Recruiting = "recruiting";
    public const string Running = "running";
    public const string Ended = "ended";

    /// <summary>How long the keys of a group outlive their last write (a group that died leaves nothing behind for longer).</summary>
    public static readonly TimeSpan KeyLifetime = TimeSpan.FromHours(6);

    private IDatabase Db => redis.GetDatabase();

    public sealed record Invitation(string JobId, long Generation, DateTimeOffset Deadline);

    public sealed record GroupState(long Generation, string Status, IReadOnlyList<string> Members);

    public async Task<GroupState?> ReadAsync(string jobId)
    {
        var hash = (await Db.HashGetAllAsync(StreamNames.TrainGroupOf(jobId))).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        if (!hash.TryGetValue("generation", out var g)) return null;
        return new GroupState(long.Parse(g, CultureInfo.InvariantCulture), hash.GetValueOrDefault("status", ""),
            hash.GetValueOrDefault("members", "").Split(',', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// Coordinator: starts a new generation and invites <paramref name="parallelism"/> − 1 idle replicas; takes those that
    /// accept before <paramref name="recruitTimeout"/> (in the order they accepted) and runs with them, however many they are.
    /// </summary>
    public async Task<DataParallelGroup> RecruitAsync(string jobId, string coordinator, int parallelism, TimeSpan recruitTimeout,
        IDatabase blocking, CancellationToken cancellationToken)
    {
        var generation = await NextGenerationAsync(jobId, [coordinator], Recruiting,
            new("coordinator", coordinator), new("requested", parallelism));
        var members = await InviteAsync(jobId, generation, [coordinator], parallelism, recruitTimeout, blocking, cancellationToken);
        return await StartAsync(jobId, generation, members);
    }

    /// <summary>
    /// Coordinator, at a checkpoint boundary of a group smaller than <paramref name="parallelism"/>: starts the next generation
    /// with the present members still in it (they wait for its welcome, docs/streams.md "Lost members come back"), invites the
    /// missing number of free replicas, and runs with the present members plus those that joined within <paramref name="timeout"/>.
    /// </summary>
    public async Task<DataParallelGroup> GrowAsync(DataParallelGroup group, int parallelism, TimeSpan timeout, IDatabase blocking, CancellationToken cancellationToken)
    {
        var generation = await NextGenerationAsync(group.JobId, group.Members, Recruiting);
        var members = await InviteAsync(group.JobId, generation, group.Members, parallelism, timeout, blocking, cancellationToken);
        return await StartAsync(group.JobId, generation, members);
    }

    /// <summary>
    /// Trainer replicas other than <paramref name="exclude"/> whose heartbeat says they are free (no job, no group): a group
    /// short of members grows only when one exists, so a job with no spare replica never pays for a regroup.
    /// </summary>
    public async Task<IReadOnlyList<string>> FreeReplicasAsync(IReadOnlyCollection<string> exclude)
    {
        var free = new List<string>();
        var prefix = StreamNames.Replica("");
        var cursor = "0";
        do
        {
            var page = (RedisResult[])(await Db.ExecuteAsync("SCAN", cursor, "MATCH", prefix + "*", "COUNT", 200))!;
            cursor = (string)page[0]!;
            foreach (var key in (RedisResult[])page[1]!)
            {
                var id = ((string)key!)[prefix.Length..];
                if (exclude.Contains(id)) continue;
                var fields = await Db.HashGetAsync((string)key!, ["service", "job"]);
                if (fields[0] == "trainer" && fields[1].IsNullOrEmpty && !fields[0].IsNull) free.Add(id);
            }
        }
        while (cursor != "0");
        return free;
    }

    /// <summary>
    /// HINCRBY generation and the new members and status in one transaction: a member that reads the hash never sees a new
    /// generation with the previous one's members (it would train with the wrong world size).
    /// </summary>
    private async Task<long> NextGenerationAsync(string jobId, IReadOnlyList<string> members, string status, params HashEntry[] more)
    {
        var key = StreamNames.TrainGroupOf(jobId);
        var transaction = Db.CreateTransaction();
        var generation = transaction.HashIncrementAsync(key, "generation");
        _ = transaction.HashSetAsync(key, [new("members", string.Join(",", members)), new("status", status), .. more]);
        _ = transaction.KeyExpireAsync(key, KeyLifetime);
        if (!await transaction.ExecuteAsync()) throw new RedisException($"group {key}: the generation transaction was not applied");
        return await generation;
    }

    /// <summary>Invites free replicas until <paramref name="parallelism"/> members are there or the timeout has passed; returns the members in rank order.</summary>
    private async Task<List<string>> InviteAsync(string jobId, long generation, IReadOnlyList<string> present, int parallelism, TimeSpan timeout,
        IDatabase blocking, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        for (var i = present.Count; i < parallelism; i++)
            await Db.StreamAddAsync(StreamNames.TrainJoin,
                [new("jobId", jobId), new("generation", generation), new("deadline", deadline.ToUnixTimeMilliseconds())],
                maxLength: 1000, useApproximateMaxLength: true);

        var joined = StreamNames.TrainJoined(jobId, generation);
        var members = present.ToList();
        while (members.Count < parallelism && DateTimeOffset.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var who = await BlockingRedis.PopAsync(blocking, joined, deadline - DateTimeOffset.UtcNow);
            if (who is not null && !members.Contains(who)) members.Add(who);
        }
        await Db.KeyExpireAsync(joined, timeout + TimeSpan.FromMinutes(1));   // late acceptances: their welcome never comes
        return members;
    }

    /// <summary>Writes the members and status=running, then welcomes every member but the coordinator (present ones included).</summary>
    private async Task<DataParallelGroup> StartAsync(string jobId, long generation, List<string> members)
    {
        await Db.HashSetAsync(StreamNames.TrainGroupOf(jobId), [new("members", string.Join(",", members)), new("status", Running)]);
        foreach (var member in members.Skip(1))
        {
            var welcome = StreamNames.TrainWelcome(jobId, generation, member);
            await Db.ListLeftPushAsync(welcome, generation);
            await Db.KeyExpireAsync(welcome, TimeSpan.FromMinutes(5));
        }
        return new DataParallelGroup(jobId, generation, members);
    }

    /// <summary>Coordinator: the next generation with the members of <paramref name="group"/> except <paramref name="lost"/> ranks.</summary>
    public async Task<DataParallelGroup> RegroupAsync(DataParallelGroup group, IReadOnlyCollection<int> lost)
    {
        var members = group.Members.Where((_, rank) => rank == 0 || !lost.Contains(rank)).ToList();
        var generation = await NextGenerationAsync(group.JobId, members, Running);
        return new DataParallelGroup(group.JobId, generation, members);
    }

    /// <summary>Coordinator, on any exit (done, cancelled, failed, stopping): members leave at their next sync.</summary>
    public async Task EndAsync(string jobId, long generation)
    {
        var key = StreamNames.TrainGroupOf(jobId);
        var current = await ReadAsync(jobId);
        if (current is null || current.Generation != generation) return;   // a newer coordinator owns it now
        await Db.HashSetAsync(key, "status", Ended);
        await Db.KeyExpireAsync(key, KeyLifetime);
    }

    /// <summary>Member: accepts an invitation and waits (bounded by its deadline) for the coordinator's welcome. Null when not taken.</summary>
    public async Task<DataParallelGroup?> JoinAsync(Invitation invitation, string instanceId, IDatabase blocking, CancellationToken cancellationToken)
    {
        var state = await ReadAsync(invitation.JobId);
        if (state is null || state.Generation != invitation.Generation || state.Status != Recruiting) return null;
        await Db.ListRightPushAsync(StreamNames.TrainJoined(invitation.JobId, invitation.Generation), instanceId);

        return await AwaitWelcomeAsync(invitation.JobId, invitation.Generation, instanceId, invitation.Deadline + TimeSpan.FromSeconds(10), blocking, cancellationToken);
    }

    /// <summary>
    /// Member: waits (bounded by <paramref name="until"/>) for the coordinator's welcome to <paramref name="generation"/>, after
    /// accepting an invitation or, for a present member, when the group grows. Null when recruiting closed without this replica.
    /// </summary>
    public async Task<DataParallelGroup?> AwaitWelcomeAsync(string jobId, long generation, string instanceId, DateTimeOffset until,
        IDatabase blocking, CancellationToken cancellationToken)
    {
        var welcome = StreamNames.TrainWelcome(jobId, generation, instanceId);
        while (DateTimeOffset.UtcNow < until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await BlockingRedis.PopAsync(blocking, welcome, until - DateTimeOffset.UtcNow) is not null)
            {
                var welcomed = await ReadAsync(jobId);
                return welcomed is not null && welcomed.Generation == generation && welcomed.Members.Contains(instanceId)
                    ? new DataParallelGroup(jobId, welcomed.Generation, welcomed.Members)
                    : null;
            }
            var state = await ReadAsync(jobId);
            if (state is null || state.Generation != generation || state.Status != Recruiting && !state.Members.Contains(instanceId))
                return null;   // recruiting closed without this replica
        }
        return null;
    }

    public static Invitation? ParseInvitation(StreamEntry entry)
    {
        var jobId = entry["jobId"];
        if (jobId.IsNullOrEmpty || !long.TryParse((string?)entry["generation"], CultureInfo.InvariantCulture, out var generation)
            || !long.TryParse((string?)entry["deadline"], CultureInfo.InvariantCulture, out var deadline)) return null;
        return new Invitation(jobId!, generation, DateTimeOffset.FromUnixTimeMilliseconds(deadline));
    }

    /// <summary>Puts an invitation back for another replica (this one became busy between reading and accepting it).</summary>
    public Task RepublishAsync(Invitation invitation) =>
        Db.StreamAddAsync(StreamNames.TrainJoin,
            [new("jobId", invitation.JobId), new("generation", invitation.Generation), new("deadline", invitation.Deadline.ToUnixTimeMilliseconds())],
            maxLength: 1000, useApproximateMaxLength: true);
}
