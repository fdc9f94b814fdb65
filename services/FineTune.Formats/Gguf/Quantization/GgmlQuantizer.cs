// Converts float32 tensors to ggml tensor data (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) and back.
// Blocks are independent, so work is split into contiguous block ranges across all cores. Hand-written: see the
// per-format files for the block layouts and their sources.
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FineTune.Formats.Gguf.Quantization;

public static class GgmlQuantizer
{
    private delegate void BlockFn<TIn, TOut>(ReadOnlySpan<TIn> input, Span<TOut> output);

    /// <summary>Types this quantizer can produce from float32.</summary>
    public static bool CanQuantizeTo(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q4_K or GgmlType.Q6_K;

    /// <summary>Quantizes <paramref name="src"/> (row-major; element count a multiple of the block size) into a new buffer.</summary>
    public static byte[] Quantize(GgmlType type, float[] src)
    {
        var info = GgmlTypeInfo.Of(type);
        var dst = new byte[info.RowBytes(src.LongLength)];
        QuantizeInto(type, src, dst);
        return dst;
    }

    public static void QuantizeInto(GgmlType type, float[] src, byte[] dst)
    {
        var info = GgmlTypeInfo.Of(type);
        if (src.LongLength % info.BlockElements != 0)
            throw new ArgumentException($"{src.LongLength} elements is not a multiple of {type}'s block size {info.BlockElements}.");
        if (dst.LongLength != info.RowBytes(src.LongLength))
            throw new ArgumentException($"Destination holds {dst.LongLength} bytes; {type} of {src.LongLength} elements needs {info.RowBytes(src.LongLength)}.");
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.AsBytes(src.AsSpan()).CopyTo(dst); break;
            case GgmlType.F16: Blocks<float, byte>(src, dst, 1, 2, (x, y) => KQuantMath.WriteFp16(y, x[0])); break;
            case GgmlType.BF16: Blocks<float, byte>(src, dst, 1, 2, (x, y) => BinaryPrimitives.WriteUInt16LittleEndian(y, KQuantMath.ToBf16(x[0]))); break;
            case GgmlType.Q8_0: Blocks<float, byte>(src, dst, Q8_0.Elements, Q8_0.Bytes, Q8_0.QuantizeBlock); break;
            case GgmlType.Q4_0: Blocks<float, byte>(src, dst, Q4_0.Elements, Q4_0.Bytes, Q4_0.QuantizeBlock); break;
            case GgmlType.Q5_0: Blocks<float, byte>(src, dst, Q5_0.Elements, Q5_0.Bytes, Q5_0.QuantizeBlock); break;
            case GgmlType.Q4_K: Blocks<float, byte>(src, dst, Q4_K.Elements, Q4_K.Bytes, Q4_K.QuantizeBlock); break;
            case GgmlType.Q6_K: Blocks<float, byte>(src, dst, Q6_K.Elements, Q6_K.Bytes, Q6_K.QuantizeBlock); break;
            default: throw new NotSupportedException($"Quantizing to {type} is not supported.");
        }
    }

    /// <summary>Dequantizes <paramref name="count"/> elements of <paramref name="type"/> data to float32.</summary>
    public static float[] Dequantize(GgmlType type, byte[] data, long count)
    {
        var info = GgmlTypeInfo.Of(type);
        if (data.LongLength != info.RowBytes(count))
            throw new ArgumentException($"{type} data of {count} elements must be {info.RowBytes(count)} bytes, got {data.LongLength}.");
        var dst = new float[count];
        switch (type)
        {
            case GgmlType.F32: data.AsSpan().CopyTo(MemoryMarshal.AsBytes(dst.AsSpan())); break;
            case GgmlType.F16: Blocks<byte, float>(data, dst, 2, 1, (y, x) => x[0] = KQuantMath.ReadFp16(y)); break;
            case GgmlType.BF16: Blocks<byte, float>(data, dst, 2, 1, (y, x) => x[0] = KQuantMath.FromBf16(BinaryPrimitives.ReadUInt16LittleEndian(y))); break;
            case GgmlType.Q8_0: Blocks<byte, float>(data, dst, Q8_0.Bytes, Q8_0.Elements, Q8_0.DequantizeBlock); break;
            case GgmlType.Q4_0: Blocks<byte, float>(data, dst, Q4_0.Bytes, Q4_0.Elements, Q4_0.DequantizeBlock); break;
            case GgmlType.Q5_0: Blocks<byte, float>(data, dst, Q5_0.Bytes, Q5_0.Elements, Q5_0.DequantizeBlock); break;
            case GgmlType.Q4_K: Blocks<byte, float>(data, dst, Q4_K.Bytes, Q4_K.Elements, Q4_K.DequantizeBlock); break;
            case GgmlType.Q6_K: Blocks<byte, float>(data, dst, Q6_K.Bytes, Q6_K.Elements, Q6_K.DequantizeBlock); break;
            default: throw new NotSupportedException($"Dequantizing {type} is not supported.");
        }
        return dst;
    }

    /// <summary>Runs <paramref name="fn"/> on every block, splitting the blocks into contiguous ranges across cores.</summary>
    private static void Blocks<TIn, TOut>(TIn[] input, TOut[] output, int inPerBlock, int outPerBlock, BlockFn<TIn, TOut> fn)
    {
        var blocks = input.LongLength / inPerBlock;
        var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, (int)Math.Min(int.MaxValue, blocks / 64)));
        var perWorker = (blocks + workers - 1) / workers;
        Parallel.For(0, workers, w =>
        {
            var start = w * perWorker;
            var end = Math.Min(blocks, start + perWorker);
            for (var b = start; b < end; b++)
                fn(new ReadOnlySpan<TIn>(input, checked((int)(b * inPerBlock)), inPerBlock),
                   new Span<TOut>(output, checked((int)(b * outPerBlock)), outPerBlock));
        });
    }
}
