using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Rotary position embeddings in Hugging Face's rotate-half layout: a head vector's first half pairs with its second
/// half, x' = x·cos + rotate_half(x)·sin with rotate_half([a, b]) = [-b, a], and cos/sin repeated over both halves.
/// </summary>
public static class Rope
{
    /// <summary>Inverse frequencies with the config's rope_scaling applied (<see cref="RopeFrequencies.InverseFrequencies"/>).</summary>
    public static double[] InverseFrequencies(ModelConfig config, long sequenceLength = 0, bool local = false) =>
        RopeFrequencies.InverseFrequencies(config, sequenceLength, local);

    /// <summary>Whether the frequencies depend on the sequence length (recomputed each forward pass).</summary>
    public static bool DependsOnLength(ModelConfig config) => RopeFrequencies.DependsOnLength(config);

    /// <summary>The factor cos and sin are multiplied by (<see cref="RopeFrequencies.AttentionFactor"/>).</summary>
    public static double AttentionFactor(ModelConfig config) => RopeFrequencies.AttentionFactor(config);

    /// <summary>cos and sin tables for the given positions, times <paramref name="scale"/>: each (B, T, hs), float32.</summary>
    public static (Tensor Cos, Tensor Sin) Tables(double[] inverseFrequencies, Tensor positionIds, double scale = 1)
    {
        using var scope = NewDisposeScope();
        var inv = tensor(inverseFrequencies.Select(x => (float)x).ToArray(), device: positionIds.device); // (hs/2)
        var freqs = positionIds.to_type(ScalarType.Float32).unsqueeze(-1).mul(inv);                      // (B, T, hs/2)
        var emb = cat([freqs, freqs], -1);                                                                 // (B, T, hs)
        if (scale == 1) return (emb.cos().MoveToOuterDisposeScope(), emb.sin().MoveToOuterDisposeScope());
        return (emb.cos().mul(scale).MoveToOuterDisposeScope(), emb.sin().mul(scale).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates <paramref name="x"/> (B, nh, T, hs) by the (B, T, hs) tables.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        if (x.ndim != 4 || cos.ndim != 3 || x.shape[0] != cos.shape[0] || x.shape[2] != cos.shape[1] || x.shape[3] != cos.shape[2])
            throw new ArgumentException(
                $"RoPE: x must be (B, nh, T, hs) and cos/sin (B, T, hs); got x [{string.Join(", ", x.shape)}], cos [{string.Join(", ", cos.shape)}]");
        using var scope = NewDisposeScope();
        var c = cos.unsqueeze(1).to_type(x.dtype); // (B, 1, T, hs)
        var s = sin.unsqueeze(1).to_type(x.dtype);
        using var one = 1.0.ToScalar();   // add_(Tensor) would pass an implicit alpha Scalar that only a finalizer owns
        return x.mul(c).add_(RotateHalf(x).mul_(s), one).MoveToOuterDisposeScope();
    }

    /// <summary>[a, b] → [-b, a] over the last dimension.</summary>
    public static Tensor RotateHalf(Tensor x)
    {
        var half = x.shape[^1] / 2;
        using var x1 = x.narrow(-1, 0, half);
        using var x2 = x.narrow(-1, half, half);
        using var neg = x2.neg();
        return cat([neg, x1], -1);
    }
}
