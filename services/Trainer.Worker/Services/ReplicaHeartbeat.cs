using System.Diagnostics;
using System.Globalization;
using FineTune.Messaging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Trainer.Worker.Services;

/// <summary>
/// Writes <c>ft:replica:{instanceId}</c> (service, job, device, ts, max_gap_ms; in a data-parallel job also role, rank,
/// generation) every heartbeat with a TTL of three heartbeats, and at once through <see cref="BeatAsync"/> when the replica's
/// work changes. The members of a data-parallel group read each other's heartbeat to tell a slow member from a dead one, so
/// the periodic beat runs on its own thread with synchronous Redis calls: training holds thread-pool threads for whole steps
/// (and evaluations), and a beat queued behind them on a loaded machine would let the key expire while the replica computes.
/// <c>max_gap_ms</c> is the longest interval between two periodic beats since the replica started (docs/reliability.md).
/// </summary>
public sealed class ReplicaHeartbeat(IConnectionMultiplexer redis, ReplicaState state, StreamWorkerOptions worker,
    IOptions<TrainerOptions> options, ILogger<ReplicaHeartbeat> logger) : BackgroundService
{
    private long _lastBeat;
    private long _maxGapTicks;

    private string Key => StreamNames.Replica(worker.ConsumerName);

    /// <summary>The longest interval so far between two periodic beats.</summary>
    public TimeSpan MaxGap => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _maxGapTicks));

    /// <summary>Writes the heartbeat now.</summary>
    public async Task BeatAsync()
    {
        var db = redis.GetDatabase();
        await db.HashSetAsync(Key, Fields());
        await db.KeyExpireAsync(Key, options.Value.HeartbeatInterval * 3);
    }

    private void Beat()
    {
        var db = redis.GetDatabase();
        db.HashSet(Key, Fields());
        db.KeyExpire(Key, options.Value.HeartbeatInterval * 3);
    }

    private HashEntry[] Fields()
    {
        var now = state.Now;
        return
        [
            new("service", "trainer"), new("job", now.JobId ?? ""), new("device", now.Device), new("ts", DateTimeOffset.UtcNow.ToString("O")),
            new("role", now.JobId is null ? "" : now.Role), new("rank", now.JobId is null || now.Rank < 0 ? "" : now.Rank.ToString(CultureInfo.InvariantCulture)),
            new("generation", now.JobId is null || now.Generation == 0 ? "" : now.Generation.ToString(CultureInfo.InvariantCulture)),
            new("max_gap_ms", ((long)MaxGap.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)),
        ];
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { Loop(stoppingToken); }
            finally { done.TrySetResult(); }
        })
        { IsBackground = true, Name = "ft-heartbeat", Priority = ThreadPriority.AboveNormal };
        thread.Start();
        await done.Task;
        try { await redis.GetDatabase().KeyDeleteAsync(Key); } catch (RedisException) { }
    }

    private void Loop(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeartbeatInterval;
        do
        {
            try
            {
                Beat();
                Measure();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                logger.LogWarning("Heartbeat {Key} not written: {Error}", Key, ex.Message);
            }
        }
        while (!stoppingToken.WaitHandle.WaitOne(interval));
    }

    /// <summary>Records the interval since the previous periodic beat (a Redis outage counts: the beat did not land meanwhile).</summary>
    private void Measure()
    {
        var now = Stopwatch.GetTimestamp();
        if (_lastBeat != 0 && now - _lastBeat > Interlocked.Read(ref _maxGapTicks))
        {
            Interlocked.Exchange(ref _maxGapTicks, now - _lastBeat);
            if (Stopwatch.GetElapsedTime(_lastBeat, now) > options.Value.HeartbeatInterval * 2)
                logger.LogWarning("Heartbeat {Key}: {Gap:F1} s since the previous beat (interval {Interval:F0} s)", Key,
                    Stopwatch.GetElapsedTime(_lastBeat, now).TotalSeconds, options.Value.HeartbeatInterval.TotalSeconds);
        }
        _lastBeat = now;
    }
}
