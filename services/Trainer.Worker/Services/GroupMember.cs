using FineTune.Messaging;
using FineTune.Messaging.Jobs;
using FineTune.Training.Jobs;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;

namespace Trainer.Worker.Services;

/// <summary>
/// The member side of data-parallel jobs: while this replica is free it reads invitations from <c>ft:train:join</c> (group
/// <c>members</c>, XREADGROUP BLOCK on a dedicated connection), joins the inviting job's group, and trains its rank's share of
/// every step until the job ends, its coordinator is gone, or it is left out of a new generation. Members write nothing to the
/// job; after a regroup they reload the coordinator's last checkpoint.
/// </summary>
public sealed class GroupMember(IConnectionMultiplexer redis, GroupStore groups, JobStore jobs, JobTrainer trainer, ReplicaState replica,
    ReplicaHeartbeat heartbeat, StreamWorkerOptions worker, Microsoft.Extensions.Options.IOptions<TrainerOptions> options, ILogger<GroupMember> logger)
    : BackgroundService
{
    private bool _groupReady;

    private string Me => worker.ConsumerName;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        ConnectionMultiplexer? blocking = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    blocking ??= await BlockingRedis.ConnectAsync(redis);
                    await EnsureGroupAsync();
                    await replica.WaitFreeAsync(stoppingToken);
                    var result = await blocking.GetDatabase().ExecuteAsync("XREADGROUP", "GROUP", StreamNames.TrainJoinGroup, Me,
                        "COUNT", 1, "BLOCK", (long)BlockingRedis.Slice.TotalMilliseconds, "STREAMS", StreamNames.TrainJoin, ">");
                    if (result.IsNull) continue;
                    var (id, invitation) = ParseOne(result);
                    await redis.GetDatabase().StreamAcknowledgeAsync(StreamNames.TrainJoin, StreamNames.TrainJoinGroup, id);
                    if (invitation is null || invitation.Deadline < DateTimeOffset.UtcNow) continue;
                    if (!replica.TryEnter())
                    {
                        await groups.RepublishAsync(invitation);   // took a job meanwhile: leave the invitation to another replica
                        continue;
                    }
                    try
                    {
                        await ServeAsync(invitation, blocking.GetDatabase(), stoppingToken);
                    }
                    finally
                    {
                        replica.Idle();
                        replica.Exit();
                        await BeatAsync();
                    }
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
                {
                    _groupReady = false;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    logger.LogWarning("Data-parallel invitations unavailable ({Error}); retrying", ex.Message);
                    try { await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken); } catch (OperationCanceledException) { break; }
                }
                catch (Exception ex)
                {
                    logger.LogError(ex, "Serving in a data-parallel group failed; this replica is free again");
                }
            }
        }
        finally
        {
            blocking?.Dispose();
        }
    }

    private async Task EnsureGroupAsync()
    {
        if (_groupReady) return;
        try { await redis.GetDatabase().StreamCreateConsumerGroupAsync(StreamNames.TrainJoin, StreamNames.TrainJoinGroup, "0-0", createStream: true); }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal)) { }
        _groupReady = true;
    }

    private async Task ServeAsync(GroupStore.Invitation invitation, IDatabase blocking, CancellationToken stopping)
    {
        var jobId = invitation.JobId;
        replica.InGroup(jobId, "cpu", -1, invitation.Generation);   // serving from now: the coordinator sees a live heartbeat
        await BeatAsync();
        var group = await groups.JoinAsync(invitation, Me, blocking, stopping);
        if (group is null)
        {
            logger.LogInformation("Invitation to {JobId} generation {Generation} closed before this replica was taken", jobId, invitation.Generation);
            return;
        }
        var record = await jobs.GetAsync(jobId);
        if (record is null || JobStatus.IsFinal(record.GetValueOrDefault("status"))) return;
        var spec = trainer.PrepareSpec(jobId, record);

        while (true)
        {
            var rank = group.RankOf(Me);
            if (rank < 1) return;
            replica.InGroup(jobId, spec.Training.Device, rank, group.Generation);
            await BeatAsync();
            logger.LogInformation("Serving {Group} as rank {Rank}", group, rank);
            var sync = new RedisGradientSync(redis.GetDatabase(), blocking, group, rank, trainer.IsServingAsync(jobId), options.Value.SyncTimeout);
            using var run = await TrainingRun.PrepareAsync(spec, trainer.DataRoot, stopping, sync);
            try
            {
                await foreach (var _ in run.RunAsync(resume: true, stopping)) { }
                logger.LogInformation("Served {Group} to the end: gradient sync {Send:F1} ms send, {Wait:F1} ms wait, {Reduce:F1} ms reduce per step",
                    group, Per(sync.SendTime, sync.Steps), Per(sync.WaitTime, sync.Steps), Per(sync.ReduceTime, sync.Steps));
                return;
            }
            catch (GroupChangedException changed)
            {
                logger.LogInformation("Leaving {Group}: {Reason}", group, changed.Message);
                var state = await groups.ReadAsync(jobId);
                if (state is null || state.Generation <= group.Generation) return;
                if (state.Status == GroupStore.Recruiting && state.Members.Contains(Me))
                {
                    // the group grows back (a lost member returns): present members wait for the new generation's welcome
                    var until = DateTimeOffset.UtcNow + options.Value.RecruitTimeout + options.Value.GrowTimeout + TimeSpan.FromSeconds(10);
                    if (await groups.AwaitWelcomeAsync(jobId, state.Generation, Me, until, blocking, stopping) is not { } grown) return;
                    group = grown;
                    continue;
                }
                if (state.Status != GroupStore.Running) return;
                group = new DataParallelGroup(jobId, state.Generation, state.Members);   // regrouped: rejoin if still in it
            }
        }
    }

    private static double Per(TimeSpan total, int steps) => steps == 0 ? 0 : total.TotalMilliseconds / steps;

    private static (string Id, GroupStore.Invitation? Invitation) ParseOne(RedisResult result)
    {
        var entry = (RedisResult[])((RedisResult[])((RedisResult[])((RedisResult[])result!)[0]!)[1]!)[0]!;
        var fields = (RedisResult[])entry[1]!;
        var values = new List<NameValueEntry>();
        for (var i = 0; i + 1 < fields.Length; i += 2) values.Add(new((string)fields[i]!, (string)fields[i + 1]!));
        var id = (string)entry[0]!;
        return (id, GroupStore.ParseInvitation(new StreamEntry(id, [.. values])));
    }

    private async Task BeatAsync()
    {
        try { await heartbeat.BeatAsync(); }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { logger.LogWarning("Heartbeat not written: {Error}", ex.Message); }
    }
}
