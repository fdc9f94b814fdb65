using FineTune.Messaging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Trainer.Worker.Services;

/// <summary>
/// Writes <c>ft:replica:{instanceId}</c> (service, job, device, ts; in a data-parallel job also role, rank, generation) every
/// heartbeat with a TTL of three heartbeats, and at once through <see cref="BeatAsync"/> when the replica's work changes. The
/// members of a data-parallel group read each other's heartbeat to tell a slow member from a dead one.
/// </summary>
public sealed class ReplicaHeartbeat(IConnectionMultiplexer redis, ReplicaState state, StreamWorkerOptions worker,
    IOptions<TrainerOptions> options, ILogger<ReplicaHeartbeat> logger) : BackgroundService
{
    private string Key => StreamNames.Replica(worker.ConsumerName);

    /// <summary>Writes the heartbeat now.</summary>
    public async Task BeatAsync()
    {
        var now = state.Now;
        var db = redis.GetDatabase();
        await db.HashSetAsync(Key,
        [
            new("service", "trainer"), new("job", now.JobId ?? ""), new("device", now.Device), new("ts", DateTimeOffset.UtcNow.ToString("O")),
            new("role", now.JobId is null ? "" : now.Role), new("rank", now.JobId is null || now.Rank < 0 ? "" : now.Rank.ToString()),
            new("generation", now.JobId is null || now.Generation == 0 ? "" : now.Generation.ToString()),
        ]);
        await db.KeyExpireAsync(Key, options.Value.HeartbeatInterval * 3);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval);
        do
        {
            try
            {
                await BeatAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Heartbeat {Key} not written: {Error}", Key, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
        try { await redis.GetDatabase().KeyDeleteAsync(Key); } catch (RedisException) { }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try { return await timer.WaitForNextTickAsync(token); }
        catch (OperationCanceledException) { return false; }
    }
}
