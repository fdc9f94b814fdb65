// Q8_0 block {fp16 d; int8 qs[32]} (ggml-common.h), reference math from ggml-quants.c as summarised in
// shared/reference/gguf-ollama.md §2: d = amax/127, q = roundf(x/d) (half away from zero).
namespace FineTune.Formats.Gguf.Quantization;

internal static class Q8_0
{
    public const int Elements = 32;
    public const int Bytes = 34;

    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0;
        for (var j = 0; j < Elements; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        var d = amax / 127;
        var id = d != 0 ? 1 / d : 0;
        KQuantMath.WriteFp16(y, d);
        for (var j = 0; j < Elements; j++)
            y[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = KQuantMath.ReadFp16(y);
        for (var j = 0; j < Elements; j++) x[j] = (sbyte)y[2 + j] * d;
    }
}
