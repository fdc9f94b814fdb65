using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>
/// 4-bit NormalFloat as QLoRA (Dettmers et al. 2023) and bitsandbytes define it: weights are cut into blocks of 64, each
/// block is divided by its absolute maximum, and every value is replaced by the index of the nearest of 16 code values
/// (quantiles of N(0, 1) scaled to [-1, 1], with an exact zero). Two indices share a byte, the first in the high nibble.
/// Written by hand: no .NET library implements NF4. The code values are the published table (bitsandbytes' get_4bit_type).
/// </summary>
public static class Nf4
{
    public const int DefaultBlockSize = 64;

    /// <summary>The 16 NF4 code values, ascending; index 7 is exactly 0.</summary>
    public static readonly float[] CodeBook =
    [
        -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
        -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
        0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
        0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
    ];

    /// <summary>
    /// Quantizes <paramref name="weight"/> (any shape, any float dtype) block by block. With
    /// <paramref name="doubleQuant"/> the FP32 block scales are themselves stored in 8 bits (<see cref="BlockScales"/>).
    /// </summary>
    public static Nf4Tensor Quantize(Tensor weight, int blockSize = DefaultBlockSize, bool doubleQuant = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 2);
        if (blockSize % 2 != 0) throw new ArgumentException($"NF4 block size must be even (got {blockSize})", nameof(blockSize));
        using var _ = no_grad();
        var (packed, absmax) = QuantizeBlocks(weight, blockSize);
        using (absmax)
            return new Nf4Tensor(packed, BlockScales.Create(absmax, doubleQuant), weight.shape, blockSize);
    }

    /// <summary>The packed codes and the FP32 absmax of each block.</summary>
    private static (Tensor Packed, Tensor Absmax) QuantizeBlocks(Tensor weight, int blockSize)
    {
        using var scope = NewDisposeScope();
        var blocks = PadToBlocks(weight.detach().to(ScalarType.Float32).flatten(), blockSize);   // (nb, bs)
        var absmax = blocks.abs().amax([1]);                                                      // (nb,)
        using var tiny = float.Epsilon.ToScalar();   // owned Scalars: an implicit one is freed by a finalizer
        var scaled = blocks / absmax.clamp_min(tiny).unsqueeze(1);
        var codes = NearestCode(scaled, CodeBook).to(ScalarType.Byte).flatten();
        var four = tensor((byte)4);
        var packed = codes[TensorIndex.Slice(0, null, 2)].bitwise_left_shift(four).bitwise_or_(codes[TensorIndex.Slice(1, null, 2)]);
        return (packed.MoveToOuterDisposeScope(), absmax.MoveToOuterDisposeScope());
    }

    /// <summary>The index of the nearest value of the ascending <paramref name="codeBook"/> for every element (ties go down).</summary>
    internal static Tensor NearestCode(Tensor values, float[] codeBook)
    {
        using var scope = NewDisposeScope();
        var midpoints = new float[codeBook.Length - 1];
        for (var i = 0; i < midpoints.Length; i++) midpoints[i] = (codeBook[i] + codeBook[i + 1]) / 2;
        var boundaries = tensor(midpoints, device: values.device);
        return bucketize(values.contiguous(), boundaries).MoveToOuterDisposeScope();
    }

    /// <summary>Flattened <paramref name="flat"/> as (blocks, blockSize), the last block padded with zeros.</summary>
    internal static Tensor PadToBlocks(Tensor flat, int blockSize)
    {
        var pad = (blockSize - flat.shape[0] % blockSize) % blockSize;
        var padded = pad == 0 ? flat : nn.functional.pad(flat, [0, pad]);
        return padded.view(-1, blockSize);
    }
}

/// <summary>A weight stored as NF4: packed 4-bit codes, the block scales, and the original shape.</summary>
public sealed class Nf4Tensor(Tensor packed, BlockScales scales, long[] shape, int blockSize) : IDisposable
{
    /// <summary>(ceil(numel / blockSize) · blockSize / 2) bytes, two codes per byte, the first in the high nibble.</summary>
    public Tensor Packed { get; } = packed;

    public BlockScales Scales { get; } = scales;

    public long[] Shape { get; } = shape;

    public int BlockSize { get; } = blockSize;

    /// <summary>Elements of the weight (padding excluded).</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Bytes held: codes plus scales.</summary>
    public long StorageBytes => Packed.NumberOfElements + Scales.StorageBytes;

    /// <summary>The 4-bit codes, one per byte (0..15), in element order (padding included).</summary>
    public Tensor Codes()
    {
        using var scope = NewDisposeScope();
        var high = Packed.bitwise_right_shift(tensor((byte)4));
        var low = Packed.bitwise_and(tensor((byte)15));
        return stack([high, low], 1).flatten().MoveToOuterDisposeScope();
    }

    /// <summary>The weight in <paramref name="dtype"/>: code value × block absmax, computed in FP32.</summary>
    public Tensor Dequantize(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return (Packed.device.type == DeviceType.CPU ? DequantizeOnCpu(dtype) : DequantizeWithTensors(dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>The tensor form: codes → indices into the code book → × block scales (any device).</summary>
    internal Tensor DequantizeWithTensors(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var book = tensor(Nf4.CodeBook, device: Packed.device);
        var values = book.index_select(0, Codes().to(ScalarType.Int64)).view(-1, BlockSize);
        var weight = (values * Scales.Dequantize().unsqueeze(1)).flatten();
        return weight[TensorIndex.Slice(0, Numel)].view(Shape).to(dtype).MoveToOuterDisposeScope();
    }

    /// <summary>The same values as the tensor form, computed from the packed bytes (<see cref="Nf4CpuDequantizer"/>).</summary>
    private Tensor DequantizeOnCpu(ScalarType dtype)
    {
        var weight = empty([Numel], ScalarType.Float32);
        DequantizeInto(weight);
        return weight.view(Shape).to(dtype);
    }

    /// <summary>
    /// The FP32 weight on the CPU, written into a rented <see cref="MatmulScratch"/> buffer (flat: view it as
    /// <see cref="Shape"/>), for a matmul that uses the weight at once and keeps nothing of it (<see cref="DequantizingMatmul"/>).
    /// </summary>
    internal MatmulScratch.Lease DequantizeToScratch()
    {
        var lease = MatmulScratch.Rent(Numel);
        try
        {
            DequantizeInto(lease.View);
            return lease;
        }
        catch
        {
            lease.Dispose();   // the buffer goes back to the pool
            throw;
        }
    }

    /// <summary>Writes the FP32 weight into <paramref name="output"/>, a contiguous CPU tensor of <see cref="Numel"/> elements.</summary>
    private void DequantizeInto(Tensor output)
    {
        using var scope = NewDisposeScope();
        var scales = Scales.Dequantize().to(ScalarType.Float32).contiguous();
        Nf4CpuDequantizer.DequantizeInto(Packed.contiguous(), scales, output, BlockSize);
    }

    public void Dispose()
    {
        Packed.Dispose();
        Scales.Dispose();
    }
}
