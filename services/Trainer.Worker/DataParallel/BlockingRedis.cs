using StackExchange.Redis;

namespace Trainer.Worker.DataParallel;

/// <summary>
/// A dedicated connection for blocking reads (XREAD/XREADGROUP BLOCK, BLPOP): on the shared multiplexed connection a blocking
/// command would hold up every other command, so the data-parallel code opens its own, with the shared one's configuration.
/// </summary>
public static class BlockingRedis
{
    /// <summary>The longest single block; callers loop, checking liveness between blocks.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromSeconds(1);

    public static async Task<ConnectionMultiplexer> ConnectAsync(IConnectionMultiplexer shared)
    {
        var options = ConfigurationOptions.Parse(shared.Configuration);
        options.AbortOnConnectFail = false;
        options.SyncTimeout = options.AsyncTimeout = (int)(Slice + TimeSpan.FromSeconds(10)).TotalMilliseconds;
        options.ClientName = "ft-trainer-blocking";
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    /// <summary>BLPOP with a timeout (whole seconds or fractions; Redis ≥ 6). Null when it timed out.</summary>
    public static async Task<string?> PopAsync(IDatabase blocking, string key, TimeSpan timeout)
    {
        var seconds = Math.Max(0.01, Math.Min(timeout.TotalSeconds, Slice.TotalSeconds));
        var result = await blocking.ExecuteAsync("BLPOP", key, seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture));
        if (result.IsNull) return null;
        var pair = (RedisResult[])result!;
        return pair.Length == 2 ? (string?)pair[1] : null;
    }
}
