using FineTune.Messaging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Trainer.Worker.Services;

/// <summary>Writes <c>ft:replica:{instanceId}</c> (service, job, device, ts) every heartbeat, with a TTL of three heartbeats.</summary>
public sealed class ReplicaHeartbeat(IConnectionMultiplexer redis, ReplicaState state, StreamWorkerOptions worker,
    IOptions<TrainerOptions> options, ILogger<ReplicaHeartbeat> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeartbeatInterval;
        var key = StreamNames.Replica(worker.ConsumerName);
        using var timer = new PeriodicTimer(interval);
        do
        {
            try
            {
                var db = redis.GetDatabase();
                await db.HashSetAsync(key, [new("service", "trainer"), new("job", state.JobId ?? ""), new("device", state.Device), new("ts", DateTimeOffset.UtcNow.ToString("O"))]);
                await db.KeyExpireAsync(key, interval * 3);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Heartbeat {Key} not written: {Error}", key, ex.Message);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
        try { await redis.GetDatabase().KeyDeleteAsync(key); } catch (RedisException) { }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try { return await timer.WaitForNextTickAsync(token); }
        catch (OperationCanceledException) { return false; }
    }
}
