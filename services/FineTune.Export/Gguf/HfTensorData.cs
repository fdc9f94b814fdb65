// Reads one checkpoint tensor as float32 (from F32, F16 or BF16 safetensors data), straight out of the memory-mapped
// file: F16 through TensorPrimitives (F16C where the CPU has it), BF16 by widening each 16-bit value into the top half
// of a float (exact), split into one contiguous range per core. Both conversions are exact, so the values are the same
// as an element-by-element conversion.
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FineTune.Formats.Safetensors;

namespace FineTune.Export.Gguf;

public static class HfTensorData
{
    public static float[] ReadFloat32(SafetensorsCheckpoint checkpoint, string name)
    {
        var info = checkpoint.Get(name);
        var result = new float[ElementCount(info.DType, checkpoint.GetSpan(name).Length, $"{checkpoint.Source}: tensor '{name}'")];
        ReadInto(checkpoint, name, result);
        return result;
    }

    /// <summary>Converts tensor <paramref name="name"/> into the start of <paramref name="buffer"/> (reused across tensors); returns its element count.</summary>
    public static int ReadInto(SafetensorsCheckpoint checkpoint, string name, float[] buffer)
    {
        var dtype = checkpoint.Get(name).DType;
        var count = ElementCount(dtype, checkpoint.GetSpan(name).Length, $"{checkpoint.Source}: tensor '{name}'");
        if (buffer.Length < count) throw new ArgumentException($"A {buffer.Length}-element buffer cannot hold '{name}' ({count} elements).");
        var workers = count < 1 << 16 ? 1 : Environment.ProcessorCount;
        var per = (count + workers - 1) / workers;
        Parallel.For(0, workers, w =>
        {
            var start = Math.Min(count, w * per);
            var length = Math.Min(count, start + per) - start;
            var width = dtype == SafetensorDType.F32 ? 4 : 2;
            Convert(dtype, checkpoint.GetSpan(name).Slice(start * width, length * width), buffer.AsSpan(start, length));
        });
        return count;
    }

    public static float[] ToFloat32(SafetensorDType dtype, ReadOnlySpan<byte> bytes, string what)
    {
        var result = new float[ElementCount(dtype, bytes.Length, what)];
        Convert(dtype, bytes, result);
        return result;
    }

    private static int ElementCount(SafetensorDType dtype, int byteLength, string what) => dtype switch
    {
        SafetensorDType.F32 => byteLength / 4,
        SafetensorDType.F16 or SafetensorDType.BF16 => byteLength / 2,
        _ => throw new NotSupportedException($"{what} has dtype {dtype}; GGUF export reads F32, F16 and BF16 weights."),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convert(SafetensorDType dtype, ReadOnlySpan<byte> bytes, Span<float> result)
    {
        switch (dtype)
        {
            case SafetensorDType.F32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result); break;
            case SafetensorDType.F16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), result); break;
            default: Bf16ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), result); break;
        }
    }

    /// <summary>bf16 is the top half of a float32: widen to 32 bits and shift left by 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Bf16ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        var bits = MemoryMarshal.Cast<float, uint>(dst);
        var i = 0;
        for (; i + 16 <= src.Length; i += 16)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Create(src.Slice(i, 16)));
            (lo << 16).CopyTo(bits[i..]);
            (hi << 16).CopyTo(bits[(i + 8)..]);
        }
        for (; i < src.Length; i++) bits[i] = (uint)src[i] << 16;
    }
}
