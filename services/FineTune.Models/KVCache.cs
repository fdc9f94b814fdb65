using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, preallocated to a fixed capacity (no regrowth copies).
/// Also remembers each cached position's segment id (0 = padding) so later tokens mask padding out.
/// Owned by the caller: dispose it when generation ends.
/// </summary>
public sealed class KVCache : IDisposable
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;
    private readonly Tensor _segments;

    public KVCache(ModelConfig config, long batchSize, long capacity, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        BatchSize = batchSize;
        Capacity = capacity;
        _keys = new Tensor[config.NumHiddenLayers];
        _values = new Tensor[config.NumHiddenLayers];
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
            _values[i] = zeros([batchSize, config.NumKeyValueHeads, capacity, config.HeadDim], dtype, device).DetachFromDisposeScope();
        }
        _segments = zeros([batchSize, capacity], ScalarType.Int64, device).DetachFromDisposeScope();
    }

    public long BatchSize { get; }

    public long Capacity { get; }

    /// <summary>Positions filled so far.</summary>
    public long Length { get; private set; }

    /// <summary>Stores the new tokens' segment ids (B, T) ahead of the layers and checks capacity.</summary>
    internal void BeginStep(Tensor segmentIds)
    {
        var t = segmentIds.shape[1];
        if (segmentIds.shape[0] != BatchSize)
            throw new ArgumentException($"KV cache holds a batch of {BatchSize}, input has {segmentIds.shape[0]} rows");
        if (Length + t > Capacity)
            throw new InvalidOperationException($"KV cache is full: {Length} + {t} tokens exceed its capacity of {Capacity}");
        using var slot = _segments.narrow(1, Length, t);
        slot.copy_(segmentIds);
    }

    /// <summary>Segment ids of every cached position including the current step: (B, Length + T).</summary>
    internal Tensor Segments(long newTokens) => _segments.narrow(1, 0, Length + newTokens);

    /// <summary>Writes one layer's new keys/values (B, nkv, T, hs) and returns views of all so far (B, nkv, Length+T, hs).</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        var t = k.shape[2];
        using (var ks = _keys[layer].narrow(2, Length, t)) ks.copy_(k);
        using (var vs = _values[layer].narrow(2, Length, t)) vs.copy_(v);
        return (_keys[layer].narrow(2, 0, Length + t), _values[layer].narrow(2, 0, Length + t));
    }

    /// <summary>Commits the step once every layer has appended.</summary>
    internal void EndStep(long newTokens) => Length += newTokens;

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
        _segments.Dispose();
    }
}
