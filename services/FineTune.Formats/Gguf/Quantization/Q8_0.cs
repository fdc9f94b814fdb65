// Q8_0 block {fp16 d; int8 qs[32]} (ggml-common.h), reference math from ggml-quants.c as summarised in
// shared/reference/gguf-ollama.md §2: d = amax/127, q = roundf(x/d) (half away from zero). Vectorised over the block's
// four 8-float rows; every lane does the scalar reference's float operations, so the bytes are the same
// (tests/FineTune.Formats.Tests/Gguf/ScalarReferenceQuantizer.cs keeps the scalar form).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

internal static class Q8_0
{
    public const int Elements = 32;
    public const int Bytes = 34;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        var v0 = Vector256.Create(x[..8]);
        var v1 = Vector256.Create(x.Slice(8, 8));
        var v2 = Vector256.Create(x.Slice(16, 8));
        var v3 = Vector256.Create(x.Slice(24, 8));
        var amax = LaneMath.MaxAbs(x[..Elements], v0, v1, v2, v3);
        var d = amax / 127;
        var id = Vector256.Create(d != 0 ? 1 / d : 0);
        KQuantMath.WriteFp16(y, d);
        var lo = Vector256.Narrow(LaneMath.RoundAway(v0 * id), LaneMath.RoundAway(v1 * id));
        var hi = Vector256.Narrow(LaneMath.RoundAway(v2 * id), LaneMath.RoundAway(v3 * id));
        Vector256.Narrow(lo, hi).AsByte().CopyTo(y.Slice(2, 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = Vector256.Create(KQuantMath.ReadFp16(y));
        var (lo, hi) = Vector256.Widen(Vector256.Create(MemoryMarshal.Cast<byte, sbyte>(y.Slice(2, 32))));
        var (q0, q1) = Vector256.Widen(lo);
        var (q2, q3) = Vector256.Widen(hi);
        (Vector256.ConvertToSingle(q0) * d).CopyTo(x);   // q · d in float, as the scalar reference computes it
        (Vector256.ConvertToSingle(q1) * d).CopyTo(x[8..]);
        (Vector256.ConvertToSingle(q2) * d).CopyTo(x[16..]);
        (Vector256.ConvertToSingle(q3) * d).CopyTo(x[24..]);
    }
}
