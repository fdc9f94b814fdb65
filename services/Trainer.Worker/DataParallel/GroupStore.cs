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
        var key = StreamNames.TrainGroupOf(jobId);
        var generation = await Db.HashIncrementAsync(key, "generation");
        await Db.HashSetAsync(key, [new("coordinator", coordinator), new("members", coordinator), new("requested", parallelism), new("status", Recruiting)]);
        await Db.KeyExpireAsync(key, KeyLifetime);

        var deadline = DateTimeOffset.UtcNow + recruitTimeout;
        for (var i = 1; i < parallelism; i++)
            await Db.StreamAddAsync(StreamNames.TrainJoin,
                [new("jobId", jobId), new("generation", generation), new("deadline", deadline.ToUnixTimeMilliseconds())],
                maxLength: 1000, useApproximateMaxLength: true);

        var joined = StreamNames.TrainJoined(jobId, generation);
        var members = new List<string> { coordinator };
        while (members.Count < parallelism && DateTimeOffset.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var who = await BlockingRedis.PopAsync(blocking, joined, deadline - DateTimeOffset.UtcNow);
            if (who is not null && !members.Contains(who)) members.Add(who);
        }
        await Db.KeyExpireAsync(joined, recruitTimeout + TimeSpan.FromMinutes(1));   // late acceptances: their welcome never comes

        await Db.HashSetAsync(key, [new("members", string.Join(",", members)), new("status", Running)]);
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
        var key = StreamNames.TrainGroupOf(group.JobId);
        var members = group.Members.Where((_, rank) => rank == 0 || !lost.Contains(rank)).ToList();
        var generation = await Db.HashIncrementAsync(key, "generation");
        await Db.HashSetAsync(key, [new("members", string.Join(",", members)), new("status", Running)]);
        await Db.KeyExpireAsync(key, KeyLifetime);
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

        var welcome = StreamNames.TrainWelcome(invitation.JobId, invitation.Generation, instanceId);
        var until = invitation.Deadline + TimeSpan.FromSeconds(10);
        while (DateTimeOffset.UtcNow < until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await BlockingRedis.PopAsync(blocking, welcome, until - DateTimeOffset.UtcNow) is not null)
            {
                state = await ReadAsync(invitation.JobId);
                return state is not null && state.Generation == invitation.Generation && state.Members.Contains(instanceId)
                    ? new DataParallelGroup(invitation.JobId, state.Generation, state.Members)
                    : null;
            }
            state = await ReadAsync(invitation.JobId);
            if (state is null || state.Generation != invitation.Generation || state.Status != Recruiting && !state.Members.Contains(instanceId))
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
