using StackExchange.Redis;

namespace FineTune.Messaging;

/// <summary>
/// Forgets the consumers of a group that are gone: each replica joins its group under its own instance id, so every
/// restart leaves the previous name behind in XINFO CONSUMERS. A consumer is removed (XGROUP DELCONSUMER) only when it
/// owns no pending message and has not touched the group for longer than the idle limit. The check and the delete run
/// in one Lua script, so a consumer cannot take a message between them (DELCONSUMER would drop that message from the
/// pending list, and it would never be redelivered). A consumer that still owns messages stays until a live one has
/// claimed them (XAUTOCLAIM after <see cref="StreamWorkerOptions.MinIdle"/>) and is removed on a later pass.
/// </summary>
public static class StaleConsumers
{
    // XINFO CONSUMERS replies (RESP2, as scripts see it) one flat field/value array per consumer: name, pending, idle
    // (ms since its last read or claim), and from Redis 7.2 inactive.
    private const string PruneScript = """
        local removed = {}
        for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
          local info = {}
          for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
          if info['name'] ~= ARGV[3] and info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
            removed[#removed + 1] = info['name']
          end
        end
        return removed
        """;

    /// <summary>
    /// Removes the consumers of <paramref name="group"/> on <paramref name="stream"/> other than <paramref name="keep"/> that
    /// own no pending message and were idle at least <paramref name="idleLimit"/>; returns their names.
    /// </summary>
    public static async Task<string[]> PruneAsync(IDatabase database, string stream, string group, TimeSpan idleLimit, string keep)
    {
        var result = await database.ScriptEvaluateAsync(PruneScript, [stream], [group, (long)idleLimit.TotalMilliseconds, keep]);
        return [.. ((RedisValue[]?)result ?? []).Select(name => name.ToString())];
    }
}
