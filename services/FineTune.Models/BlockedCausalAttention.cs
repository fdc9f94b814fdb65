using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>
/// Causal attention for short sequences in training, as batched matmuls over blocks of 128 queries: each block is
/// multiplied only with the keys up to its own last position, so most of the masked upper triangle is never computed,
/// and the softmax output is kept for backward rather than recomputed. On one CPU thread (libtorch 2.10 with MKL),
/// forward + backward took 20–30 % less time than <c>scaled_dot_product_attention</c>'s flash kernel up to 512 tokens,
/// about the same at 1,024, and more at 2,048 (docs/benchmarks/training.md, "Attention for short sequences"). The price
/// is memory: the probabilities of a row and layer, H·T²·(n + 1)/2n floats for n blocks (5 MiB at 8 heads and 512
/// tokens), which the flash kernel does not store. Hence only up to <see cref="MaxLength"/> tokens, and only for a
/// module in training mode: inference keeps the flash kernel. (Training mode, not "gradients recorded": gradient
/// checkpointing runs a layer once without gradients and again with them, and both runs must take the same path.)
/// </summary>
public static class BlockedCausalAttention
{
    /// <summary>The longest sequence this path takes; longer ones go to the flash kernel.</summary>
    public const int MaxLength = 512;

    private const int BlockRows = 128;

    /// <summary>
    /// Whether the blocked path computes this call: CPU, a module in training mode, no cached keys (as many keys as
    /// queries), at most <see cref="MaxLength"/> of them, and so a mask that is causal (null, or built without past
    /// tokens, which is causal by construction: <see cref="AttentionMask.Build"/>).
    /// </summary>
    public static bool Applies(Tensor q, Tensor k, KVCache? cache, bool training) =>
        training && cache is null && q.device.type == DeviceType.CPU && q.shape[2] == k.shape[2] && q.shape[2] <= MaxLength;

    /// <summary>softmax(q·kᵀ/√hs + mask)·v for q, k, v of shape (B, H, T, hs); <paramref name="mask"/> (B|1, 1, T, T), true = attend, or null for causal.</summary>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var length = q.shape[2];
        using var scale = (1 / Math.Sqrt(q.shape[3])).ToScalar();   // owned: an implicit Scalar is freed by a finalizer
        var parts = new List<Tensor>();
        for (var start = 0L; start < length; start += BlockRows)
        {
            var rows = Math.Min(BlockRows, length - start);
            var keys = start + rows;
            var scores = q.narrow(2, start, rows).matmul(k.narrow(2, 0, keys).transpose(2, 3)).mul_(scale);   // (B, H, rows, keys)
            if (mask is null) scores.narrow(3, start, rows).masked_fill_(Later(rows, q.device), float.NegativeInfinity);   // only the block's own keys can be later
            else scores.masked_fill_(mask.narrow(2, start, rows).narrow(3, 0, keys).logical_not(), float.NegativeInfinity);
            parts.Add(scores.softmax(-1).matmul(v.narrow(2, 0, keys)));                                        // (B, H, rows, hs)
        }
        return cat(parts, 2).MoveToOuterDisposeScope();
    }

    /// <summary>(rows, rows) true above the diagonal: key j comes after query i.</summary>
    private static Tensor Later(long rows, Device device) => ones(rows, rows, ScalarType.Bool, device).triu(1);
}
