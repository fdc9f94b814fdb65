// Q5_0 block {fp16 d; u8 qh[4]; u8 qs[16]} (ggml-common.h), reference math from ggml-quants.c:
// d = max/−16 with max the signed value of largest |x|; q = min(31, (int8)(x/d + 16.5)); the low 4 bits go to nibbles
// as in Q4_0 and bit 4 of element j (j<16) / j+16 goes to bit j / j+16 of the little-endian u32 qh.
// Used by Q4_K_M as the fallback for Q4_K when a row is not a multiple of 256.
using System.Buffers.Binary;

namespace FineTune.Formats.Gguf.Quantization;

internal static class Q5_0
{
    public const int Elements = 32;
    public const int Bytes = 22;

    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0, max = 0;
        for (var j = 0; j < Elements; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        var d = max / -16;
        var id = d != 0 ? 1 / d : 0;
        KQuantMath.WriteFp16(y, d);
        uint qh = 0;
        for (var j = 0; j < Elements / 2; j++)
        {
            var q0 = Math.Min(31, (int)(sbyte)(x[j] * id + 16.5f));
            var q1 = Math.Min(31, (int)(sbyte)(x[j + 16] * id + 16.5f));
            y[6 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint)((q0 & 0x10) >> 4) << j;
            qh |= (uint)((q1 & 0x10) >> 4) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
    }

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
