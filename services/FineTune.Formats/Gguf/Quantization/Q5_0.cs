// Q5_0 block {fp16 d; u8 qh[4]; u8 qs[16]} (ggml-common.h), reference math from ggml-quants.c:
// d = max/−16 with max the signed value of largest |x|; q = min(31, (int8)(x/d + 16.5)); the low 4 bits go to nibbles
// as in Q4_0 and bit 4 of element j (j<16) / j+16 goes to bit j / j+16 of the little-endian u32 qh.
// Used by Q4_K_M as the fallback for Q4_K when a row is not a multiple of 256 (Qwen2.5-0.5B's 896-wide rows). Vectorised
// lane by lane with the scalar float operations, so the bytes equal the scalar form's (tests compare them).
using System.Buffers.Binary;
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
            var truncated = Vector256.ConvertToInt32(v[k] * id + Vector256.Create(16.5f));   // (int)(sbyte)(float): the int's low byte, sign-extended
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SignedMaxAbs(ReadOnlySpan<float> x, ReadOnlySpan<Vector256<float>> v)
    {
        var m = Vector256<float>.Zero;
        foreach (var vk in v)
        {
            var ax = Vector256.Abs(vk);
            m = Vector256.ConditionalSelect(Vector256.GreaterThan(ax, m), ax, m);
        }
        float amax = 0;
        for (var i = 0; i < 8; i++) if (m[i] > amax) amax = m[i];
        if (amax == 0) return 0;
        for (var j = 0; ; j++) if (MathF.Abs(x[j]) == amax) return x[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = KQuantMath.ReadFp16(y);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(y[2..]);
        for (var j = 0; j < Elements / 2; j++)
        {
            var h0 = (int)((qh >> j) << 4) & 0x10;
            var h1 = (int)(qh >> (j + 12)) & 0x10;
            x[j] = (((y[6 + j] & 0xF) | h0) - 16) * d;
            x[j + 16] = (((y[6 + j] >> 4) | h1) - 16) * d;
        }
    }
}
