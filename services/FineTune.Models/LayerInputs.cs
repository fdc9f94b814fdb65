using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// What each decoder layer needs besides its input, built once per forward pass: RoPE cos/sin and the attention mask.
/// Full-attention layers share one pair and one causal mask; sliding-window layers share a windowed mask and, for Gemma 3,
/// cos/sin from rope_local_base_freq. A model without sliding layers builds only the first kind. The tensors belong to
/// the caller's dispose scope (the forward pass); Dispose releases the masks early.
/// </summary>
internal sealed class LayerInputs : IDisposable
{
    private readonly ModelConfig _config;
    private (Tensor Cos, Tensor Sin, AttentionMask Mask)? _full;
    private (Tensor Cos, Tensor Sin, AttentionMask Mask)? _sliding;

    private LayerInputs(ModelConfig config) => _config = config;

    public static LayerInputs Build(ModelConfig c, double[] inverseFrequencies, double[]? localInverseFrequencies,
        Tensor positionIds, long t, long past, Tensor? querySegments, Tensor? keySegments, Device device)
    {
        var inputs = new LayerInputs(c);
        var layers = Enumerable.Range(0, c.NumHiddenLayers).ToList();
        var scale = Rope.AttentionFactor(c);
        var global = Rope.DependsOnLength(c) ? Rope.InverseFrequencies(c, positionIds.max().item<long>() + 1) : inverseFrequencies;
        if (layers.Any(i => !c.IsSlidingLayer(i)))
        {
            var (cos, sin) = Rope.Tables(global, positionIds, scale);                                  // (B, T, hs)
            inputs._full = (cos, sin, AttentionMask.Build(t, past, querySegments, keySegments, null, device));
        }
        if (layers.Any(c.IsSlidingLayer))
        {
            var (cos, sin) = localInverseFrequencies is null
                ? inputs._full is { } f ? (f.Cos, f.Sin) : Rope.Tables(global, positionIds, scale)
                : Rope.Tables(localInverseFrequencies, positionIds);                                      // (B, T, hs)
            inputs._sliding = (cos, sin, AttentionMask.Build(t, past, querySegments, keySegments, c.SlidingWindow, device));
        }
        return inputs;
    }

    public (Tensor Cos, Tensor Sin, AttentionMask Mask) For(int layer) =>
        _config.IsSlidingLayer(layer) ? _sliding!.Value : _full!.Value;

    public void Dispose()
    {
        _full?.Mask.Dispose();
        _sliding?.Mask.Dispose();
    }
}
