using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// Reusable FP32 buffers for dequantized weights that live for a single matmul (<see cref="DequantizingMatmul"/>), so a
/// training step does not allocate, fault in and free a fresh full-precision copy per layer and pass. A buffer is rented
/// for one matmul and returned; there are as many as matmuls ever ran at once (one per row shard's thread), each as
/// large as the largest weight it held: the memory that fresh copies take anyway at their peak. The buffers live outside
/// every dispose scope; their owner is this class.
/// </summary>
internal static class MatmulScratch
{
    private static readonly ConcurrentBag<Tensor> Free = [];

    /// <summary>A buffer of at least <paramref name="count"/> FP32 elements and a contiguous 1-D view of the first
    /// <paramref name="count"/>; dispose the lease to give the buffer back.</summary>
    public static Lease Rent(long count)
    {
        if (!Free.TryTake(out var buffer) || buffer.numel() < count)
        {
            buffer?.Dispose();
            buffer = empty([count], ScalarType.Float32).DetachFromDisposeScope();
        }
        return new Lease(buffer, buffer.narrow(0, 0, count));
    }

    public sealed class Lease(Tensor buffer, Tensor view) : IDisposable
    {
        /// <summary>The rented elements; valid until the lease is disposed.</summary>
        public Tensor View { get; } = view;

        public void Dispose()
        {
            View.Dispose();
            Free.Add(buffer);
        }
    }
}
