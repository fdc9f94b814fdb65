using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// The per-block absmax of an NF4 weight. Plain: FP32, one per block. Double-quantized (QLoRA §3): the scales minus their
/// mean are quantized block-wise (256 per block) to bitsandbytes' 8-bit dynamic code, leaving one FP32 scale per 256
/// blocks plus the mean. Written by hand, from the QLoRA paper and bitsandbytes' documented algorithm.
/// </summary>
public sealed class BlockScales : IDisposable
{
    public const int SecondBlockSize = 256;

    private BlockScales(Tensor? absmax, Tensor? codes, Tensor? absmax2, float offset, long count)
    {
        Absmax = absmax;
        Codes = codes;
        Absmax2 = absmax2;
        Offset = offset;
        Count = count;
    }

    /// <summary>FP32 scales (plain form), else null.</summary>
    public Tensor? Absmax { get; }

    /// <summary>8-bit dynamic-code indices of (absmax − offset) (double-quantized form), else null.</summary>
    public Tensor? Codes { get; }

    /// <summary>FP32 scale of each group of 256 codes (double-quantized form), else null.</summary>
    public Tensor? Absmax2 { get; }

    /// <summary>The mean of the scales, subtracted before the second quantization.</summary>
    public float Offset { get; }

    /// <summary>How many blocks the scales describe.</summary>
    public long Count { get; }

    public bool IsDoubleQuantized => Codes is not null;

    public long StorageBytes => IsDoubleQuantized ? Codes!.NumberOfElements + 4 * Absmax2!.NumberOfElements + 4 : 4 * Count;

    public static BlockScales Create(Tensor absmax, bool doubleQuant)
    {
        using var scope = NewDisposeScope();
        if (!doubleQuant) return new BlockScales(absmax.clone().MoveToOuterDisposeScope(), null, null, 0, absmax.shape[0]);
        var offset = absmax.mean().item<float>();
        var blocks = Nf4.PadToBlocks(absmax - offset, SecondBlockSize);
        var absmax2 = blocks.abs().amax([1]);
        using var tiny = float.Epsilon.ToScalar();   // owned: an implicit Scalar is freed by a finalizer
        var codes = Nf4.NearestCode(blocks / absmax2.clamp_min(tiny).unsqueeze(1), DynamicCode.Signed).to(ScalarType.Byte).flatten();
        return new BlockScales(null, codes.MoveToOuterDisposeScope(), absmax2.MoveToOuterDisposeScope(), offset, absmax.shape[0]);
    }

    /// <summary>The FP32 scales, one per block.</summary>
    public Tensor Dequantize()
    {
        if (!IsDoubleQuantized) return Absmax!.alias();
        using var scope = NewDisposeScope();
        var book = tensor(DynamicCode.Signed, device: Codes!.device);
        var values = book.index_select(0, Codes.to(ScalarType.Int64)).view(-1, SecondBlockSize) * Absmax2!.unsqueeze(1);
        using var offset = Offset.ToScalar();
        using var one = 1L.ToScalar();   // add's alpha, owned
        return values.flatten()[TensorIndex.Slice(0, Count)].add(offset, one).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Absmax?.Dispose();
        Codes?.Dispose();
        Absmax2?.Dispose();
    }
}
