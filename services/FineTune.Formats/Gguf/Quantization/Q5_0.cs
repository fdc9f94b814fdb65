// Q5_0 block {fp16 d; u8 qh[4]; u8 qs[16]} (ggml-common.h), reference math from ggml-quants.c:
// d = max/−16 with max the signed value of largest |x|; q = min(31, (int8)(x/d + 16.5)); the low 4 bits go to nibbles
// as in Q4_0 and bit 4 of element j (j<16) / j+16 goes to bit j / j+16 of the little-endian u32 qh.
// Used by Q4_K_M as the fallback for Q4_K when a row is not a multiple of 256 (Qwen2.5-0.5B's 896-wide rows). Vectorised
// lane by lane with the scalar float operations, so the bytes equal the scalar form's (tests compare them).
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

[SkipLocalsInit]   // every stack buffer is written in full before it is read
internal static class Q5_0
{
    public const int Elements = 32;
    public const int Bytes = 22;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<Vector256<float>> v = stackalloc Vector256<float>[4];
        for (var k = 0; k < 4; k++) v[k] = Vector256.Create(x.Slice(8 * k, 8));
        var max = SignedMaxAbs(x, v);
        var d = max / -16;
        var id = Vector256.Create(d != 0 ? 1 / d : 0);
        KQuantMath.WriteFp16(y, d);
        Span<Vector256<int>> q = stackalloc Vector256<int>[4];
        for (var k = 0; k < 4; k++)
        {
            var truncated = Vector256.ConvertToInt32Native(v[k] * id + Vector256.Create(16.5f));   // C's (int8_t)(float): the int's low byte, sign-extended
            q[k] = Vector256.Min(Vector256.ShiftRightArithmetic(truncated << 24, 24), Vector256.Create(31));
        }
        var nibbles0 = (q[0] & Vector256.Create(0xF)) | ((q[2] & Vector256.Create(0xF)) << 4);
        var nibbles1 = (q[1] & Vector256.Create(0xF)) | ((q[3] & Vector256.Create(0xF)) << 4);
        var bytes = Vector256.Narrow(nibbles0, nibbles1);
        Vector128.Narrow(bytes.GetLower(), bytes.GetUpper()).AsByte().CopyTo(y.Slice(6, 16));
        uint qh = 0;
        for (var k = 0; k < 4; k++) qh |= Vector256.ExtractMostSignificantBits(q[k] << 27) << (8 * k);   // bit 4 of element 8k + lane
        BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
    }

    /// <summary>The signed value of the first element with the largest |x| (NaN never counts; 0 when all are zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SignedMaxAbs(ReadOnlySpan<float> x, ReadOnlySpan<Vector256<float>> v)
    {
        var m = Vector256<float>.Zero;
        foreach (var vk in v)
        {
            var ax = Vector256.Abs(vk);
            m = Vector256.ConditionalSelect(Vector256.GreaterThan(ax, m), ax, m);
        }
        var amax = LaneMath.LargestLane(m);   // m holds no NaN and nothing below +0
        if (amax == 0) return 0;
        var target = Vector256.Create(amax);
        for (var k = 0; ; k++)
        {
            var hits = Vector256.Equals(Vector256.Abs(v[k]), target).ExtractMostSignificantBits();
            if (hits != 0) return x[8 * k + BitOperations.TrailingZeroCount(hits)];
        }
    }

    /// <summary>Element j's fifth bit is bit j of qh: lanes 0–7 of each of the four 8-element rows.</summary>
    private static readonly Vector256<uint> LaneBits = Vector256.Create(1u, 2, 4, 8, 16, 32, 64, 128);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = Vector256.Create(KQuantMath.ReadFp16(y));
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(y[2..]);
        var qs = Vector128.Create(y.Slice(6, 16));
        var (first, second) = Vector256.Widen(Vector256.Create(Vector128.WidenLower(qs), Vector128.WidenUpper(qs)));   // bytes 0–7, 8–15
        // elements 0–15 are the low nibbles of bytes 0–15, elements 16–31 their high nibbles
        Row(first & Vector256.Create(0xFu), qh, d).CopyTo(x);
        Row(second & Vector256.Create(0xFu), qh >> 8, d).CopyTo(x[8..]);
        Row(first >> 4, qh >> 16, d).CopyTo(x[16..]);
        Row(second >> 4, qh >> 24, d).CopyTo(x[24..]);
    }

    /// <summary>((nibble | bit·16) − 16) · d for 8 elements whose fifth bits are the low 8 bits of <paramref name="qh"/>, in the scalar form's int-then-float order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row(Vector256<uint> nibbles, uint qh, Vector256<float> d)
    {
        var high = ~Vector256.Equals(Vector256.Create(qh) & LaneBits, Vector256<uint>.Zero) & Vector256.Create(0x10u);
        return Vector256.ConvertToSingle((nibbles | high).AsInt32() - Vector256.Create(16)) * d;
    }
}
