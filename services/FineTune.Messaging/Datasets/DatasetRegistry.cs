using System.Text.Json;
using FineTune.Data;
using FineTune.Data.Storage;
using StackExchange.Redis;

namespace FineTune.Messaging.Datasets;

/// <summary>
/// Dataset metadata in Redis: hash <c>ft:dataset:{id}</c> (flat fields for people, <c>info</c> = the full JSON),
/// sorted set <c>ft:datasets</c> (ids by creation time), and set <c>ft:dataset:{id}:refs</c>: ids of jobs that use the
/// dataset. Whoever creates a job referencing a dataset SADDs the job id there; a dataset cannot be deleted while any
/// referencing job (by that set, or by a <c>datasetId</c> in an <c>ft:job:*</c> spec) is not done, failed or cancelled.
/// </summary>
public sealed class DatasetRegistry(IConnectionMultiplexer redis)
{
    private static string IndexKey => StreamNames.Datasets;
    private static string Key(string id) => StreamNames.Dataset(id);
    private static string RefsKey(string id) => StreamNames.DatasetRefs(id);

    private static readonly HashSet<string> FinishedStatuses = ["done", "failed", "cancelled"];

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Records the dataset unless it is known already; true when this call created the entry.</summary>
    public async Task<bool> RegisterAsync(DatasetInfo info)
    {
        var tx = Db.CreateTransaction();
        tx.AddCondition(Condition.KeyNotExists(Key(info.Id)));
        _ = tx.HashSetAsync(Key(info.Id),
        [
            new("id", info.Id), new("hash", info.Hash), new("name", info.Name), new("format", info.Format),
            new("records", info.Stats.Records), new("turns", info.Stats.Turns), new("chars", info.Stats.Chars),
            new("tokens_est", info.Stats.TokenEstimate), new("train", info.TrainRecords), new("eval", info.EvalRecords),
            new("created", info.Created.ToString("O")), new("info", JsonSerializer.Serialize(info, DatasetStore.Json)),
        ]);
        _ = tx.SortedSetAddAsync(IndexKey, info.Id, info.Created.ToUnixTimeMilliseconds());
        return await tx.ExecuteAsync();
    }

    public async Task<DatasetInfo?> GetAsync(string id)
    {
        if (!DatasetId.IsValid(id)) return null;
        var json = await Db.HashGetAsync(Key(id), "info");
        return json.IsNullOrEmpty ? null : JsonSerializer.Deserialize<DatasetInfo>(json.ToString(), DatasetStore.Json);
    }

    /// <summary>Newest first.</summary>
    public async Task<IReadOnlyList<DatasetInfo>> ListAsync(int max = 1000)
    {
        var ids = await Db.SortedSetRangeByRankAsync(IndexKey, 0, max - 1, Order.Descending);
        var result = new List<DatasetInfo>(ids.Length);
        foreach (var id in ids)
            if (await GetAsync(id.ToString()) is { } info) result.Add(info);
        return result;
    }

    /// <summary>Notes that <paramref name="jobId"/> uses the dataset (called by whoever submits a job).</summary>
    public Task AddReferenceAsync(string datasetId, string jobId) => Db.SetAddAsync(RefsKey(DatasetId.Require(datasetId)), jobId);

    /// <summary>Ids of unfinished jobs that use the dataset; references of finished or vanished jobs are pruned.</summary>
    public async Task<IReadOnlyList<string>> ActiveJobsUsingAsync(string id)
    {
        var active = new List<string>();
        foreach (var job in await Db.SetMembersAsync(RefsKey(id)))
        {
            var status = await Db.HashGetAsync(StreamNames.Job(job.ToString()), "status");
            if (!status.IsNullOrEmpty && !FinishedStatuses.Contains(status.ToString())) active.Add(job.ToString());
            else await Db.SetRemoveAsync(RefsKey(id), job);
        }
        foreach (var job in await Db.SortedSetRangeByRankAsync(StreamNames.Jobs))
        {
            if (active.Contains(job.ToString())) continue;
            var fields = await Db.HashGetAsync(StreamNames.Job(job.ToString()), ["status", "spec"]);
            if (fields[0].IsNullOrEmpty || FinishedStatuses.Contains(fields[0].ToString()) || fields[1].IsNullOrEmpty) continue;
            if (SpecReferences(fields[1].ToString(), id)) active.Add(job.ToString());
        }
        return active;
    }

    /// <summary>True when a job spec (JSON) has a property whose name mentions "dataset" and whose value is the id.</summary>
    private static bool SpecReferences(string specJson, string id)
    {
        try
        {
            using var doc = JsonDocument.Parse(specJson);
            return Walk(doc.RootElement, null);
        }
        catch (JsonException)
        {
            return specJson.Contains(id, StringComparison.Ordinal);
        }

        bool Walk(JsonElement e, string? name) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject().Any(p => Walk(p.Value, p.Name)),
            JsonValueKind.Array => e.EnumerateArray().Any(v => Walk(v, name)),
            JsonValueKind.String => name is not null && name.Contains("dataset", StringComparison.OrdinalIgnoreCase) && e.GetString() == id,
            _ => false,
        };
    }

    public async Task RemoveAsync(string id)
    {
        var tx = Db.CreateTransaction();
        _ = tx.KeyDeleteAsync([Key(id), RefsKey(id)]);
        _ = tx.SortedSetRemoveAsync(IndexKey, id);
        await tx.ExecuteAsync();
    }
}
