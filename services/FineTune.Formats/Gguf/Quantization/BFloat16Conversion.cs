// bfloat16 ↔ float32. bf16 is the top half of a float32, so widening is exact: sixteen at a time, each value moved into
// the top 16 bits. Narrowing rounds to nearest even, one value at a time (KQuantMath.ToBf16).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

public static class BFloat16Conversion
{
    /// <summary>bf16 bits → float, sixteen at a time; the tail one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(dst));
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

    /// <summary>Float → bf16 bits with round to nearest even; NaN stays a quiet NaN.</summary>
    public static void FromSingle(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(dst));
        for (var i = 0; i < src.Length; i++) dst[i] = KQuantMath.ToBf16(src[i]);
    }
}
