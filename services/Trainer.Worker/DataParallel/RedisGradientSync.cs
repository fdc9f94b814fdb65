using System.Diagnostics;
using System.Globalization;
using FineTune.Messaging;
using FineTune.Training.Parallel;
using StackExchange.Redis;

namespace Trainer.Worker.DataParallel;

/// <summary>
/// All-reduce of one group generation through Redis: each member XADDs its shard (one binary field) to
/// <c>ft:dp:{jobId}:g{generation}:grads</c>, then reads that stream with XREAD BLOCK (on a dedicated connection) until it
/// holds every rank's shard of the step, and adds them in rank order (<see cref="GradientShard.Sum"/>): every member computes
/// the same bits. Between blocks it checks the group hash (a newer generation, or the job ended) and the heartbeats of the
/// ranks still missing: the coordinator throws <see cref="MemberLostException"/> for dead members (then regroups); a member
/// throws <see cref="GroupChangedException"/> when the group moved on or its coordinator is gone.
/// </summary>
public sealed class RedisGradientSync : IGradientSync
{
    private readonly IDatabase _db;
    private readonly IDatabase _blocking;
    private readonly DataParallelGroup _group;
    private readonly Func<string, Task<bool>> _isAlive;
    private readonly TimeSpan _timeout;
    private readonly string _key;
    private readonly Dictionary<(int Step, int Rank), GradientShard> _received = [];
    private string _lastId = "0-0";

    /// <param name="isAlive">Whether the replica with this instance id still serves the job (its heartbeat).</param>
    /// <param name="timeout">Longest wait for one step's shards, even from members that look alive (a stuck member).</param>
    public RedisGradientSync(IDatabase db, IDatabase blocking, DataParallelGroup group, int rank, Func<string, Task<bool>> isAlive, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, group.Size);
        _db = db;
        _blocking = blocking;
        _group = group;
        Rank = rank;
        _isAlive = isAlive;
        _timeout = timeout;
        _key = StreamNames.TrainGradients(group.JobId, group.Generation);
    }

    public int Rank { get; }
    public int WorldSize => _group.Size;

    /// <summary>Time spent so far: serialising and sending, waiting for the others' shards, adding them up.</summary>
    public TimeSpan SendTime { get; private set; }
    public TimeSpan WaitTime { get; private set; }
    public TimeSpan ReduceTime { get; private set; }
    public int Steps { get; private set; }

    public async ValueTask<GradientShard> AllReduceAsync(int step, GradientShard local, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await _db.StreamAddAsync(_key, [new("rank", Rank), new("step", step), new("g", local.ToBytes())],
            maxLength: 4 * WorldSize, useApproximateMaxLength: true);   // a member is at most one step ahead: 2K entries unread at most
        if (Steps % 50 == 0)   // keep this generation's keys alive while it trains; they expire once it stops
        {
            await _db.KeyExpireAsync(_key, GroupStore.KeyLifetime);
            if (Rank == 0) await _db.KeyExpireAsync(StreamNames.TrainGroupOf(_group.JobId), GroupStore.KeyLifetime);
        }
        var sent = clock.Elapsed;

        var deadline = DateTime.UtcNow + _timeout;
        while (Missing(step) is { Count: > 0 } missing)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await ReadAsync() > 0) continue;
            await CheckGroupAsync(step, missing, DateTime.UtcNow > deadline);
        }
        var waited = clock.Elapsed;

        var shards = Enumerable.Range(0, WorldSize).Select(r => _received[(step, r)]).ToList();
        for (var r = 0; r < WorldSize; r++) _received.Remove((step, r));
        var total = GradientShard.Sum(shards);

        SendTime += sent;
        WaitTime += waited - sent;
        ReduceTime += clock.Elapsed - waited;
        Steps++;
        return total;
    }

    private List<int> Missing(int step) => Enumerable.Range(0, WorldSize).Where(r => !_received.ContainsKey((step, r))).ToList();

    /// <summary>One blocking read of whatever entries follow the last one seen; returns how many arrived.</summary>
    private async Task<int> ReadAsync()
    {
        var result = await _blocking.ExecuteAsync("XREAD", "COUNT", 64, "BLOCK", (long)BlockingRedis.Slice.TotalMilliseconds, "STREAMS", _key, _lastId);
        if (result.IsNull) return 0;
        var count = 0;
        foreach (var stream in (RedisResult[])result!)
        foreach (var entry in (RedisResult[])((RedisResult[])stream!)[1]!)
        {
            var parts = (RedisResult[])entry!;
            _lastId = (string)parts[0]!;
            var fields = (RedisResult[])parts[1]!;
            int rank = -1, step = -1;
            byte[]? payload = null;
            for (var i = 0; i + 1 < fields.Length; i += 2)
                switch ((string)fields[i]!)
                {
                    case "rank": rank = int.Parse((string)fields[i + 1]!, CultureInfo.InvariantCulture); break;
                    case "step": step = int.Parse((string)fields[i + 1]!, CultureInfo.InvariantCulture); break;
                    case "g": payload = (byte[])fields[i + 1]!; break;
                }
            if (rank < 0 || rank >= WorldSize || step < 0 || payload is null) continue;
            _received[(step, rank)] = GradientShard.FromBytes(payload);
            count++;
        }
        return count;
    }

    private async Task CheckGroupAsync(int step, List<int> missing, bool timedOut)
    {
        var state = await _db.HashGetAsync(StreamNames.TrainGroupOf(_group.JobId), ["generation", "status"]);
        var generation = state[0].IsNull ? -1 : (long)state[0];
        if (generation != _group.Generation)
            throw new GroupChangedException($"group of {_group.JobId} moved from generation {_group.Generation} to {generation}");
        if (state[1] == GroupStore.Ended)
            throw new GroupChangedException($"the coordinator ended the group of {_group.JobId}");

        var dead = new List<int>();
        foreach (var rank in missing)
            if (!await _isAlive(_group.Members[rank])) dead.Add(rank);

        if (Rank == 0)
        {
            if (dead.Count > 0) throw new MemberLostException(step, dead, "no heartbeat");
            if (timedOut) throw new MemberLostException(step, missing, $"no gradients within {_timeout}");
        }
        else if (dead.Contains(0) || timedOut)
        {
            throw new GroupChangedException($"coordinator {_group.Coordinator} of {_group.JobId} is gone");
        }
    }
}
