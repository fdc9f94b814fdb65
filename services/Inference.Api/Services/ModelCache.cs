using Inference.Api.Model;

namespace Inference.Api.Services;

/// <summary>
/// A bounded least-recently-used set of loaded models, and the one gate that generation runs behind: the CPU (or the one
/// GPU) does one generation at a time, so a second request waits its turn instead of halving both. Loading, eviction
/// (Dispose of the least recently used model) and generation all happen while holding the gate, so a model is never
/// disposed under a running generation.
/// </summary>
public sealed class ModelCache(int capacity, ILogger<ModelCache> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly LinkedList<LoadedModel> _recent = []; // most recent first

    public int Capacity { get; } = Math.Max(1, capacity);

    /// <summary>Ids of the models in memory, most recently used first.</summary>
    public IReadOnlyList<string> Loaded
    {
        get { lock (_recent) return [.. _recent.Select(m => m.Entry.Id)]; }
    }

    /// <summary>Waits for the gate, loads <paramref name="entry"/> if needed, and runs <paramref name="work"/> on a pool thread.</summary>
    public async Task<T> UseAsync<T>(ModelEntry entry, Func<LoadedModel, T> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => work(Acquire(entry)), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private LoadedModel Acquire(ModelEntry entry)
    {
        lock (_recent)
        {
            var node = _recent.First;
            while (node is not null && node.Value.Entry.Stamp != entry.Stamp) node = node.Next;
            if (node is not null)
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                return node.Value;
            }
        }
        // A stale copy of the same id (its files changed) goes first, then the least recently used beyond capacity.
        Evict(m => m.Entry.Id == entry.Id);
        while (Loaded.Count >= Capacity) EvictLast();
        logger.LogInformation("Loading model {ModelId} from {Folder}{Adapter}", entry.Id, entry.Folder, entry.Adapter is { } a ? $" with adapter {a}" : "");
        var loaded = LoadedModel.Load(entry);
        lock (_recent) _recent.AddFirst(loaded);
        return loaded;
    }

    private void Evict(Func<LoadedModel, bool> which)
    {
        List<LoadedModel> gone;
        lock (_recent)
        {
            gone = [.. _recent.Where(which)];
            foreach (var m in gone) _recent.Remove(m);
        }
        foreach (var m in gone)
        {
            logger.LogInformation("Unloading model {ModelId}", m.Entry.Id);
            m.Dispose();
        }
    }

    private void EvictLast()
    {
        LoadedModel last;
        lock (_recent)
        {
            last = _recent.Last!.Value;
            _recent.RemoveLast();
        }
        logger.LogInformation("Unloading model {ModelId} (least recently used; at most {Capacity} loaded)", last.Entry.Id, Capacity);
        last.Dispose();
    }

    public void Dispose()
    {
        Evict(_ => true);
        _gate.Dispose();
    }
}
