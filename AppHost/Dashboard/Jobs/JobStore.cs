using System.Text.Json;
using StackExchange.Redis;

namespace FineTune.AppHost.Dashboard.Jobs;

/// <summary>A job as the Jobs pages show it: the fields of its ft:job:{id} hash, with its JSON fields parsed and its stages in order.</summary>
/// <param name="Fields">Every plain field of the hash (status, created, replica, device, error, …) except the JSON ones.</param>
/// <param name="Stages">From the &lt;stage&gt;_started / &lt;stage&gt;_finished fields, in the order they started.</param>
/// <param name="Spec">The spec field, parsed (null when absent); a field that is not valid JSON is returned as a JSON string.</param>
public sealed record JobView(
    string Id,
    string Status,
    string? Created,
    IReadOnlyDictionary<string, string> Fields,
    IReadOnlyList<JobStage> Stages,
    JsonElement? Spec,
    JsonElement? Artifacts,
    JsonElement? Eval);

public sealed record JobStage(string Name, string? Started, string? Finished);

/// <summary>One record of ft:job:{id}:metrics (step, epoch, loss, lr, grad_norm, tokens_per_s, eta_s, kind, eval_loss, eval_ppl).</summary>
public sealed record JobMetricRecord(string Id, IReadOnlyDictionary<string, string> Fields);

/// <summary>
/// Reads jobs from the app's Redis, by the keys of docs/streams.md: the ft:jobs sorted set, the ft:job:{id} hash and the
/// ft:job:{id}:metrics / :events streams. Read-only. Connects on first use (redis starts after the dashboard), with the
/// connection string <paramref name="connectionString"/> gives then: the configured one, or the app model's redis.
/// </summary>
public sealed class JobStore(Func<string?> connectionString) : IAsyncDisposable
{
    private const string JobsKey = "ft:jobs";
    private static readonly string[] JsonFields = ["spec", "artifacts", "eval"];
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private ConnectionMultiplexer? _redis;

    /// <summary>Why the Jobs pages have nothing to show, or null when Redis is configured.</summary>
    public string? Unavailable => _redis is null && string.IsNullOrWhiteSpace(SafeConnectionString())
        ? "No Redis connection string: the app model has no redis resource, or it is not running (or set Dashboard:RedisConnectionString)."
        : null;

    private string? SafeConnectionString()
    {
        try
        {
            return connectionString();
        }
        catch (InvalidOperationException)
        {
            return null; // e.g. redis has no allocated port (unavailable)
        }
    }

    private async Task<IDatabase> DatabaseAsync()
    {
        if (_redis is { } ready) return ready.GetDatabase();
        var text = SafeConnectionString()
            ?? throw new InvalidOperationException("No Redis connection string for the Jobs pages.");
        await _connectGate.WaitAsync();
        try
        {
            if (_redis is null)
            {
                var config = ConfigurationOptions.Parse(text);
                config.AbortOnConnectFail = false;
                config.ClientName = "dashboard";
                _redis = await ConnectionMultiplexer.ConnectAsync(config);
            }
            return _redis.GetDatabase();
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>The newest jobs first (by their ft:jobs score, the creation time).</summary>
    public async Task<IReadOnlyList<JobView>> ListAsync(int limit = 100)
    {
        var db = await DatabaseAsync();
        var ids = await db.SortedSetRangeByRankAsync(JobsKey, 0, limit - 1, Order.Descending);
        var jobs = new List<JobView>(ids.Length);
        foreach (var id in ids)
            if (await GetAsync(id!) is { } job)
                jobs.Add(job);
        return jobs;
    }

    public async Task<JobView?> GetAsync(string id)
    {
        var db = await DatabaseAsync();
        var entries = await db.HashGetAllAsync($"ft:job:{id}");
        if (entries.Length == 0) return null;
        var all = entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
        var fields = all.Where(kv => !JsonFields.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return new JobView(id, all.GetValueOrDefault("status", "unknown"), all.GetValueOrDefault("created"), fields, Stages(all),
            Json(all, "spec"), Json(all, "artifacts"), Json(all, "eval"));
    }

    private static List<JobStage> Stages(Dictionary<string, string> fields)
    {
        var names = fields.Keys
            .Where(k => k.EndsWith("_started", StringComparison.Ordinal) || k.EndsWith("_finished", StringComparison.Ordinal))
            .Select(k => k[..k.LastIndexOf('_')])
            .Distinct();
        return [.. names
            .Select(n => new JobStage(n, fields.GetValueOrDefault(n + "_started"), fields.GetValueOrDefault(n + "_finished")))
            .OrderBy(s => s.Started ?? s.Finished, StringComparer.Ordinal)];
    }

    private static JsonElement? Json(Dictionary<string, string> fields, string name)
    {
        if (!fields.TryGetValue(name, out var text) || string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }

    /// <summary>Metric records after <paramref name="afterId"/> (exclusive; null = from the start), oldest first.</summary>
    public Task<IReadOnlyList<JobMetricRecord>> MetricsAsync(string id, string? afterId, int count = 10_000) =>
        RangeAsync($"ft:job:{id}:metrics", afterId, count);

    /// <summary>Stage events (kind, message, ts) after <paramref name="afterId"/>, oldest first.</summary>
    public Task<IReadOnlyList<JobMetricRecord>> EventsAsync(string id, string? afterId, int count = 1000) =>
        RangeAsync($"ft:job:{id}:events", afterId, count);

    private async Task<IReadOnlyList<JobMetricRecord>> RangeAsync(string key, string? afterId, int count)
    {
        var db = await DatabaseAsync();
        var entries = await db.StreamRangeAsync(key, afterId is null ? "-" : "(" + afterId, "+", count);
        return [.. entries.Select(e => new JobMetricRecord(e.Id!, e.Values
            .Where(v => v.Name != "traceparent" && v.Name != "tracestate")
            .ToDictionary(v => v.Name.ToString(), v => v.Value.ToString(), StringComparer.Ordinal)))];
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null) await _redis.DisposeAsync();
        _connectGate.Dispose();
    }
}
