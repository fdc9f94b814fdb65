using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>A dequantized weight for one matmul and what owns it: a rented scratch buffer, or the tensor itself.</summary>
internal sealed class MatmulWeight : IDisposable
{
    private readonly MatmulScratch.Lease? _lease;

    public MatmulWeight(Tensor weight) => Weight = weight;

    /// <param name="lease">A flat buffer holding the weight.</param>
    /// <param name="shape">The weight's shape.</param>
    public MatmulWeight(MatmulScratch.Lease lease, long[] shape)
    {
        _lease = lease;
        Weight = lease.View.view(shape).DetachFromDisposeScope();
    }

    /// <summary>The weight; valid until this is disposed.</summary>
    public Tensor Weight { get; }

    public void Dispose()
    {
        Weight.Dispose();
        _lease?.Dispose();
    }
}
