// Scalar helpers shared by the quantizers (ggml-quants.c, the `_ref` paths that llama-quantize uses without an
// imatrix), re-derived from the algorithm description: round-half-even nearest_int and fp16/bf16 conversion with
// round-to-nearest-even. The two scale searches (make_qx_quants, make_qkx2_quants) run lane-parallel in QxLanes and
// Qkx2Lanes. Hand-written: no ggml binding exists for .NET here.
using System.Buffers.Binary;

namespace FineTune.Formats.Gguf.Quantization;

internal static class KQuantMath
{
    /// <summary>Sub-blocks whose largest |x| is below this are quantized to zero (GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round half to even via the 1.5·2^23 magic add, exactly as float arithmetic does it.</summary>
    public static int NearestInt(float f)
    {
        var val = f + 12582912f;
        var i = BitConverter.SingleToInt32Bits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    public static ushort ToFp16(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    public static float FromFp16(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    public static float ReadFp16(ReadOnlySpan<byte> b) => FromFp16(BinaryPrimitives.ReadUInt16LittleEndian(b));

    public static void WriteFp16(Span<byte> b, float f) => BinaryPrimitives.WriteUInt16LittleEndian(b, ToFp16(f));

    /// <summary>fp32 → bf16 with round-to-nearest-even; NaN stays a quiet NaN.</summary>
    public static ushort ToBf16(float f)
    {
        var u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }
}
