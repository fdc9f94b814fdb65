// IEEE half ↔ float32 conversion, vectorised and exact: the same bits as .NET's (Half) and (float) casts for every
// finite value and ±Inf (round to nearest even, subnormals included). Written by hand: .NET exposes no F16C
// conversions, its scalar Half casts cost several nanoseconds each, and TensorPrimitives' generic kernels stayed in the
// JIT's unoptimised first tier when called a chunk at a time. The float → half direction follows the float-arithmetic
// method of the FP16 library (Maratyszcza): scaling by 2^112 then 2^-110 rounds to half precision in the FPU, and
// adding a bias aligned to the value's exponent leaves the half's exponent and mantissa in the low bits.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

public static class HalfConversion
{
    /// <summary>Half bits → float, sixteen at a time; the tail one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ToSingle(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(dst));
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(dst);
        var i = 0;
        for (; i + 16 <= src.Length; i += 16)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Create(src.Slice(i, 16)));
            HalfBitsToSingleBits(lo).CopyTo(bits[i..]);
            HalfBitsToSingleBits(hi).CopyTo(bits[(i + 8)..]);
        }
        for (; i < src.Length; i++) dst[i] = (float)BitConverter.UInt16BitsToHalf(src[i]);
    }

    /// <summary>
    /// Float → half bits with round to nearest even, sixteen at a time; NaN becomes a quiet NaN (0x7E00 with the sign),
    /// where the scalar cast keeps the payload's top bits. The tail goes one by one through the cast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FromSingle(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (dst.Length < src.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(dst));
        var i = 0;
        for (; i + 16 <= src.Length; i += 16)
        {
            var lo = SingleToHalfBits(Vector256.Create(src.Slice(i, 8)));
            var hi = SingleToHalfBits(Vector256.Create(src.Slice(i + 8, 8)));
            Vector256.Narrow(lo, hi).CopyTo(dst[i..]);
        }
        for (; i < src.Length; i++) dst[i] = BitConverter.HalfToUInt16Bits((Half)src[i]);
    }

    /// <summary>The exponent and mantissa shifted into a float's places, scaled by 2^112 (the biases' difference; this also normalises subnormals).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> HalfBitsToSingleBits(Vector256<uint> h)
    {
        var magnitude = h & Vector256.Create(0x7fffu);
        var shifted = magnitude << 13;
        var scaled = (shifted.AsSingle() * Vector256.Create(BitConverter.UInt32BitsToSingle(0x77800000u))).AsUInt32();   // × 2^112
        var infOrNan = Vector256.GreaterThanOrEqual(magnitude, Vector256.Create(0x7c00u));
        var value = Vector256.ConditionalSelect(infOrNan, shifted | Vector256.Create(0x7f800000u), scaled);
        return value | ((h & Vector256.Create(0x8000u)) << 16);
    }

    /// <summary>One float's half bits per lane (in the low 16 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> SingleToHalfBits(Vector256<float> f)
    {
        var w = f.AsUInt32();
        var twice = w + w;   // the sign shifted out
        var sign = w & Vector256.Create(0x80000000u);
        // |f| × 2^112 overflows to ∞ exactly where the half would; × 2^-110 brings the rest back, rounded once.
        var rounded = Vector256.Abs(f) * Vector256.Create(BitConverter.UInt32BitsToSingle(0x77800000u)) * Vector256.Create(BitConverter.UInt32BitsToSingle(0x08800000u));
        var bias = Vector256.Max(twice & Vector256.Create(0xff000000u), Vector256.Create(0x71000000u));
        var sum = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + rounded;
        var b = sum.AsUInt32();
        var nonSign = ((b >> 13) & Vector256.Create(0x7c00u)) + (b & Vector256.Create(0x0fffu));
        var nan = Vector256.GreaterThan(twice, Vector256.Create(0xff000000u));
        return (sign >> 16) | Vector256.ConditionalSelect(nan, Vector256.Create(0x7e00u), nonSign);
    }
}
