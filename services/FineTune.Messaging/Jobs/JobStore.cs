using System.Globalization;
using StackExchange.Redis;

namespace FineTune.Messaging.Jobs;

/// <summary>
/// The job record in Redis (<c>ft:job:{id}</c> hash, <c>ft:jobs</c> index, <c>ft:job:{id}:events</c> stream), shared by the
/// front door and the workers. Stage timestamps are written as <c>&lt;status&gt;_started</c> / <c>&lt;status&gt;_finished</c>.
/// </summary>
public sealed class JobStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    public static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);

    public async Task CreateAsync(string jobId, string spec, IEnumerable<KeyValuePair<string, string>>? fields = null)
    {
        var created = DateTimeOffset.UtcNow;
        HashEntry[] entries =
        [
            new("id", jobId), new("status", JobStatus.Queued), new("created", created.ToString("O", CultureInfo.InvariantCulture)),
            new("spec", spec), .. (fields ?? []).Select(f => new HashEntry(f.Key, f.Value)),
        ];
        var tx = Db.CreateTransaction();
        _ = tx.HashSetAsync(StreamNames.Job(jobId), entries);
        _ = tx.SortedSetAddAsync(StreamNames.Jobs, jobId, created.ToUnixTimeMilliseconds());
        await tx.ExecuteAsync();
        await AddEventAsync(jobId, "created", "job created");
    }

    /// <summary>Moves the job to <paramref name="status"/>: finishes the previous stage (unless its end is already recorded),
    /// starts the new one (timestamps), sets extra fields.</summary>
    public async Task SetStatusAsync(string jobId, string status, params (string Field, string Value)[] extra)
    {
        var key = StreamNames.Job(jobId);
        var previous = (string?)await Db.HashGetAsync(key, "status");
        var now = Now();
        var entries = new List<HashEntry> { new("status", status) };
        if (!JobStatus.IsFinal(status)) entries.Add(new($"{status}_started", now));
        else entries.Add(new("finished", now));
        entries.AddRange(extra.Select(e => new HashEntry(e.Field, e.Value)));
        // One transaction, so no reader sees the new status without the previous stage's end.
        // A stage's end may have been written when its work finished (preprocessing_finished, by the job router): keep that.
        var tx = Db.CreateTransaction();
        if (previous is not null && previous != status && !JobStatus.IsFinal(previous))
            _ = tx.HashSetAsync(key, $"{previous}_finished", now, When.NotExists);
        _ = tx.HashSetAsync(key, [.. entries]);
        await tx.ExecuteAsync();
        await AddEventAsync(jobId, "status", status);
    }

    public Task SetFieldsAsync(string jobId, params (string Field, string Value)[] fields) =>
        Db.HashSetAsync(StreamNames.Job(jobId), [.. fields.Select(f => new HashEntry(f.Field, f.Value))]);

    public async Task<IReadOnlyDictionary<string, string>?> GetAsync(string jobId)
    {
        var entries = await Db.HashGetAllAsync(StreamNames.Job(jobId));
        return entries.Length == 0 ? null : entries.ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
    }

    public async Task<string?> GetFieldAsync(string jobId, string field) => await Db.HashGetAsync(StreamNames.Job(jobId), field);

    /// <summary>Marks the job for cancellation; the worker running it stops within one step.</summary>
    public async Task RequestCancelAsync(string jobId)
    {
        await Db.HashSetAsync(StreamNames.Job(jobId), "cancel_requested", Now());
        await AddEventAsync(jobId, "cancel", "cancellation requested");
    }

    public async Task<bool> IsCancelRequestedAsync(string jobId) => await Db.HashExistsAsync(StreamNames.Job(jobId), "cancel_requested");

    public Task AddEventAsync(string jobId, string kind, string message) =>
        Db.PublishAsync(StreamNames.JobEvents(jobId), [new("kind", kind), new("message", message), new("ts", Now())], maxLength: 1000);
}
