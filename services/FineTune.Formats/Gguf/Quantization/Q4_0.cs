// Q4_0 block {fp16 d; u8 qs[16]} (ggml-common.h), reference math from ggml-quants.c as summarised in
// shared/reference/gguf-ollama.md §2: d = max/−8 with max the signed value of largest |x|;
// q = min(15, (int8)(x/d + 8.5)); element j in the low nibble of qs[j], element j+16 in the high nibble.
using System.Runtime.CompilerServices;

namespace FineTune.Formats.Gguf.Quantization;

internal static class Q4_0
{
    public const int Elements = 32;
    public const int Bytes = 18;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0, max = 0;
        for (var j = 0; j < Elements; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        var d = max / -8;
        var id = d != 0 ? 1 / d : 0;
        KQuantMath.WriteFp16(y, d);
        for (var j = 0; j < Elements / 2; j++)
        {
            var q0 = Math.Min(15, (int)(sbyte)float.ConvertToIntegerNative<int>(x[j] * id + 8.5f));   // C's (int8_t) cast: see LaneMath.RoundAway
            var q1 = Math.Min(15, (int)(sbyte)float.ConvertToIntegerNative<int>(x[j + 16] * id + 8.5f));
            y[2 + j] = (byte)(q0 | (q1 << 4));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = KQuantMath.ReadFp16(y);
        for (var j = 0; j < Elements / 2; j++)
        {
            x[j] = ((y[2 + j] & 0xF) - 8) * d;
            x[j + 16] = ((y[2 + j] >> 4) - 8) * d;
        }
    }
}
