using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>
/// Which keys each query may see: causal, within the same segment (0 = padding, seen by nobody), and within the sliding
/// window if the model has one. Null <see cref="Mask"/> means plain causal attention (the SDPA fast path).
/// </summary>
public sealed class AttentionMask : IDisposable
{
    private readonly bool _owned;

    private AttentionMask(Tensor? mask, bool owned = true)
    {
        Mask = mask;
        _owned = owned;
    }

    /// <summary>(B, 1, T, S) booleans, true = attend; or null for is_causal.</summary>
    public Tensor? Mask { get; }

    public bool IsCausal => Mask is null;

    /// <param name="queryCount">T, new tokens.</param>
    /// <param name="pastLength">Cached tokens before them; keys are S = past + T.</param>
    /// <param name="querySegments">(B, T) or null.</param>
    /// <param name="keySegments">(B, S) or null.</param>
    /// <param name="slidingWindow">A query at index i sees keys j with i - j &lt; window.</param>
    public static AttentionMask Build(long queryCount, long pastLength, Tensor? querySegments, Tensor? keySegments,
        int? slidingWindow, Device device)
    {
        var keyCount = pastLength + queryCount;
        var windowBites = slidingWindow is { } w && keyCount > w;
        if (pastLength == 0 && querySegments is null && !windowBites)
            return new AttentionMask(null);

        using var scope = NewDisposeScope();
        // Scalars are owned locals, never implicit conversions: TorchSharp frees an unowned one in a finalizer,
        // which may run while libtorch still reads it (docs/training.md, "The optimizer's native crash").
        using var zero = 0L.ToScalar();
        using var one = 1L.ToScalar();
        using var past = pastLength.ToScalar();
        using var end = keyCount.ToScalar();
        var q = arange(past, end, one, dtype: ScalarType.Int64, device: device).unsqueeze(1);       // (T, 1)
        var k = arange(zero, end, one, dtype: ScalarType.Int64, device: device).unsqueeze(0);       // (1, S)
        var allowed = k.le(q);                                                                        // (T, S)
        if (windowBites)
        {
            using var window = slidingWindow!.Value.ToScalar();
            allowed = allowed.logical_and(q.sub(k).lt(window));
        }
        allowed = allowed.unsqueeze(0);                                                               // (1, T, S)
        if (querySegments is not null && keySegments is not null)
        {
            var same = querySegments.unsqueeze(2).eq(keySegments.unsqueeze(1));                       // (B, T, S)
            allowed = allowed.logical_and(same).logical_and(keySegments.unsqueeze(1).ne(zero));
        }
        // A padding query sees nothing; let it see itself so softmax stays finite (its output is never used).
        allowed = allowed.logical_or(k.eq(q).unsqueeze(0));
        return new AttentionMask(allowed.unsqueeze(1).MoveToOuterDisposeScope());                     // (B|1, 1, T, S)
    }

    /// <summary>A view of an existing mask tensor (or null for is_causal) that does not dispose it.</summary>
    internal static AttentionMask Borrow(Tensor? mask) => new(mask, owned: false);

    public void Dispose()
    {
        if (_owned) Mask?.Dispose();
    }
}
