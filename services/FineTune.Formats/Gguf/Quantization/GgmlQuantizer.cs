// Converts float32 tensors to ggml tensor data (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K) and back.
// Blocks are independent, so work is split into one contiguous block range per core (Parallel.For over ranges, not
// per-block delegates), and each core takes its range's elements from an ElementSource a chunk at a time, so the
// input can be converted from a checkpoint into a cache-sized buffer just before it is quantized. QuantizeChecked
// also dequantizes every block right after writing it and accumulates the round trip's error, so the export's
// self-check costs one pass over data already in cache. Hand-written: see the per-format files for the block layouts
// and their sources.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTune.Formats.Gguf.Quantization;

public static class GgmlQuantizer
{
    private delegate void BlockFn<TIn, TOut>(ReadOnlySpan<TIn> input, Span<TOut> output);

    private sealed record Kernel(int Elements, int Bytes, BlockFn<float, byte> Quantize, BlockFn<byte, float> Dequantize);

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
        CheckSizes(type, src.LongLength, src.LongLength, dst.LongLength);
        QuantizeChecked(type, src, src.LongLength, dst, measure: false);
    }

    /// <summary>
    /// Quantizes the first <paramref name="count"/> elements of <paramref name="src"/> into the first bytes of
    /// <paramref name="dst"/> (reused buffers may be longer), dequantizing each block again to measure the round trip (for F32, x − x: NaN only for non-finite values);
    /// with <paramref name="measure"/> false the error is not measured and comes back zero.
    /// </summary>
    public static RoundTripError QuantizeChecked(GgmlType type, float[] src, long count, byte[] dst, bool measure = true)
    {
        if (count > src.LongLength) throw new ArgumentException($"{count} elements asked of a {src.LongLength}-element source.");
        return QuantizeChecked(type, ElementSources.Of(src), count, dst, measure);
    }

    /// <summary>As above, reading the <paramref name="count"/> elements from <paramref name="source"/> a chunk at a time.</summary>
    public static RoundTripError QuantizeChecked(GgmlType type, ElementSource source, long count, byte[] dst, bool measure = true)
    {
        CheckSizes(type, count, count, Math.Min(dst.LongLength, GgmlTypeInfo.Of(type).RowBytes(count)));
        return type switch
        {
            GgmlType.F32 => CopyFloat32(source, count, dst, measure),
            GgmlType.F16 or GgmlType.BF16 => ConvertTo16Bit(source, count, dst, measure, bf16: type == GgmlType.BF16),
            _ => Run(KernelOf(type), source, count, dst, measure),
        };
    }

    /// <summary>Dequantizes <paramref name="count"/> elements of <paramref name="type"/> data to float32.</summary>
    public static float[] Dequantize(GgmlType type, byte[] data, long count)
    {
        var info = GgmlTypeInfo.Of(type);
        if (data.LongLength != info.RowBytes(count))
            throw new ArgumentException($"{type} data of {count} elements must be {info.RowBytes(count)} bytes, got {data.LongLength}.");
        var dst = new float[count];
        if (type == GgmlType.F32) data.AsSpan().CopyTo(MemoryMarshal.AsBytes(dst.AsSpan()));
        else if (type == GgmlType.F16) HalfConversion.ToSingle(MemoryMarshal.Cast<byte, ushort>(data), dst);
        else if (type == GgmlType.BF16) BFloat16Conversion.ToSingle(MemoryMarshal.Cast<byte, ushort>(data), dst);
        else
        {
            var k = KernelOf(type);
            Ranges(count / k.Elements, (start, end) =>
            {
                for (var b = start; b < end; b++) k.Dequantize(data.AsSpan(checked((int)(b * k.Bytes)), k.Bytes), dst.AsSpan(checked((int)(b * k.Elements)), k.Elements));
            });
        }
        return dst;
    }

    private static void CheckSizes(GgmlType type, long count, long srcLength, long dstLength)
    {
        var info = GgmlTypeInfo.Of(type);
        if (!CanQuantizeTo(type)) throw new NotSupportedException($"Quantizing to {type} is not supported.");
        if (count % info.BlockElements != 0)
            throw new ArgumentException($"{count} elements is not a multiple of {type}'s block size {info.BlockElements}.");
        if (count > srcLength) throw new ArgumentException($"{count} elements asked of a {srcLength}-element source.");
        if (dstLength != info.RowBytes(count))
            throw new ArgumentException($"Destination holds {dstLength} bytes; {type} of {count} elements needs {info.RowBytes(count)}.");
    }

    private static Kernel KernelOf(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => new(Q8_0.Elements, Q8_0.Bytes, Q8_0.QuantizeBlock, Q8_0.DequantizeBlock),
        GgmlType.Q4_0 => new(Q4_0.Elements, Q4_0.Bytes, Q4_0.QuantizeBlock, Q4_0.DequantizeBlock),
        GgmlType.Q5_0 => new(Q5_0.Elements, Q5_0.Bytes, Q5_0.QuantizeBlock, Q5_0.DequantizeBlock),
        GgmlType.Q4_K => new(Q4_K.Elements, Q4_K.Bytes, Q4_K.QuantizeBlock, Q4_K.DequantizeBlock),
        GgmlType.Q6_K => new(Q6_K.Elements, Q6_K.Bytes, Q6_K.QuantizeBlock, Q6_K.DequantizeBlock),
        _ => throw new NotSupportedException($"Dequantizing {type} is not supported."),
    };

    /// <summary>Elements a core converts and quantizes at a time: 16 KiB of float32, which stays in its L1/L2 cache.</summary>
    private const int ChunkElements = 4096;

    /// <summary>Quantizes every block of the first <paramref name="count"/> elements; with <paramref name="check"/>, measures each block's round trip.</summary>
    private static RoundTripError Run(Kernel k, ElementSource source, long count, byte[] dst, bool check)
    {
        var total = new RoundTripError(0, 0);
        var gate = new object();
        var chunkBlocks = Math.Max(1, ChunkElements / k.Elements);
        Ranges(count / k.Elements, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>   // no slow first tier: small models see mostly that
        {
            var scratch = new float[chunkBlocks * k.Elements];
            Span<float> back = stackalloc float[k.Elements];
            var local = new RoundTripError(0, 0);
            for (var first = start; first < end; first += chunkBlocks)
            {
                var blocks = (int)Math.Min(chunkBlocks, end - first);
                var chunk = source(first * k.Elements, scratch.AsSpan(0, blocks * k.Elements));
                for (var b = 0; b < blocks; b++)
                {
                    var x = chunk.Slice(b * k.Elements, k.Elements);
                    var y = new Span<byte>(dst, checked((int)((first + b) * k.Bytes)), k.Bytes);
                    k.Quantize(x, y);
                    if (!check) continue;
                    k.Dequantize(y, back);
                    local += RoundTripError.Of(x, back);
                }
            }
            lock (gate) total += local;
        });
        return total;
    }

    /// <summary>
    /// F32 "quantization": the source's elements copied into <paramref name="dst"/>, a chunk at a time. Its round trip is
    /// the identity, so with <paramref name="measure"/> the error is x − x: zero, or NaN where an element is NaN or infinite.
    /// </summary>
    private static RoundTripError CopyFloat32(ElementSource source, long count, byte[] dst, bool measure)
    {
        var total = new RoundTripError(0, 0);
        var gate = new object();
        Ranges((count + ChunkElements - 1) / ChunkElements, (start, end) =>
        {
            var local = new RoundTripError(0, 0);
            for (var chunk = start; chunk < end; chunk++)
            {
                var at = chunk * ChunkElements;
                var target = MemoryMarshal.Cast<byte, float>(dst.AsSpan(checked((int)(at * 4)), (int)Math.Min(ChunkElements, count - at) * 4));
                source(at, target).CopyTo(target);
                if (measure) local += RoundTripError.Of(target, target);
            }
            lock (gate) total += local;
        });
        return total;
    }

    /// <summary>
    /// F16 and BF16: the elements converted a chunk at a time in a plain loop (no call per element); with
    /// <paramref name="measure"/>, the chunk is converted back and compared.
    /// </summary>
    private static RoundTripError ConvertTo16Bit(ElementSource source, long count, byte[] dst, bool measure, bool bf16)
    {
        var total = new RoundTripError(0, 0);
        var gate = new object();
        Ranges((count + ChunkElements - 1) / ChunkElements, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, end) =>
        {
            var scratch = new float[ChunkElements];
            var back = new float[ChunkElements];
            var local = new RoundTripError(0, 0);
            for (var chunk = start; chunk < end; chunk++)
            {
                var at = chunk * ChunkElements;
                var n = (int)Math.Min(ChunkElements, count - at);
                var x = source(at, scratch.AsSpan(0, n));
                var bits = MemoryMarshal.Cast<byte, ushort>(dst.AsSpan(checked((int)(at * 2)), n * 2));
                if (bf16) BFloat16Conversion.FromSingle(x, bits);
                else HalfConversion.FromSingle(x, bits);
                if (!measure) continue;
                if (bf16) BFloat16Conversion.ToSingle(bits, back);
                else HalfConversion.ToSingle(bits, back);
                local += RoundTripError.Of(x, back.AsSpan(0, n));
            }
            lock (gate) total += local;
        });
        return total;
    }

    /// <summary>Runs <paramref name="body"/> on one contiguous range of blocks per core.</summary>
    private static void Ranges(long blocks, Action<long, long> body)
    {
        var workers = Math.Max(1, Math.Min(Environment.ProcessorCount, (int)Math.Min(int.MaxValue, blocks / 64)));
        var perWorker = (blocks + workers - 1) / workers;
        Parallel.For(0, workers, w => body(w * perWorker, Math.Min(blocks, (w + 1) * perWorker)));
    }
}
