// Q6_K super-block {u8 ql[128]; u8 qh[64]; int8 scales[16]; fp16 d} (d last) of 256 = 16 sub-blocks of 16
// (ggml-common.h). Reference math (ggml-quants.c, shared/reference/gguf-ollama.md §2): per sub-block scale by
// make_qx_quants(nmax 32, rmse_type 1); iscale = −128/max_scale; 8-bit scales; 6-bit codes L = x/(d·sc) + 32 split
// into low nibbles (ql) and 2 high bits (qh) per 128-element chunk. The search runs on eight sub-blocks at once
// (QxLanes), bit-identical to the scalar reference kept in the tests.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

[SkipLocalsInit]   // every stack buffer is written in full before it is read
internal static class Q6_K
{
    public const int Elements = 256;
    public const int Bytes = 210;
    private const int QlOffset = 0, QhOffset = 128, ScalesOffset = 192, DOffset = 208;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<sbyte> L = stackalloc sbyte[Elements];
        Span<float> scales = stackalloc float[16];
        SearchSubBlocks(x, L, scales);
        float maxScale = 0, maxAbsScale = 0;
        for (var ib = 0; ib < 16; ib++)
        {
            var abs = MathF.Abs(scales[ib]);
            if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scales[ib]; }
        }
        if (maxAbsScale < KQuantMath.GroupMaxEps)
        {
            y[..Bytes].Clear();
            return;
        }
        var iscale = -128f / maxScale;
        KQuantMath.WriteFp16(y[DOffset..], 1 / iscale);
        var sc = y.Slice(ScalesOffset, 16);
        for (var ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, KQuantMath.NearestInt(iscale * scales[ib]));
        var d = KQuantMath.ReadFp16(y[DOffset..]);
        for (var j = 0; j < 16; j++)
        {
            var dj = d * (sbyte)sc[j];
            if (dj != 0) Requantize(x.Slice(16 * j, 16), L.Slice(16 * j, 16), dj);
        }
        var ql = y.Slice(QlOffset, 128);
        var qh = y.Slice(QhOffset, 64);
        for (var j = 0; j < Elements; j += 128)
        {
            for (var l = 0; l < 32; l++)
            {
                var q1 = L[j + l] & 0xF;
                var q2 = L[j + l + 32] & 0xF;
                var q3 = L[j + l + 64] & 0xF;
                var q4 = L[j + l + 96] & 0xF;
                ql[l] = (byte)(q1 | (q3 << 4));
                ql[l + 32] = (byte)(q2 | (q4 << 4));
                qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql = ql[64..];
            qh = qh[32..];
        }
    }

    /// <summary>make_qx_quants(32, rmse_type 1) on the 16 sub-blocks, eight at a time (one per lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SearchSubBlocks(ReadOnlySpan<float> x, Span<sbyte> L, Span<float> scales)
    {
        Span<Vector256<float>> xt = stackalloc Vector256<float>[16];
        Span<Vector256<float>> lt = stackalloc Vector256<float>[16];
        Span<int> codes = stackalloc int[128];
        for (var half = 0; half < 2; half++)
        {
            var b = x.Slice(128 * half, 128);
            for (var i = 0; i < 16; i++)
                xt[i] = Vector256.Create(b[i], b[16 + i], b[32 + i], b[48 + i], b[64 + i], b[80 + i], b[96 + i], b[112 + i]);
            QxLanes.Search(xt, lt, 32).CopyTo(scales.Slice(8 * half, 8));
            var l = L.Slice(128 * half, 128);
            for (var i = 0; i < 16; i++) Vector256.ConvertToInt32(lt[i]).CopyTo(codes[(8 * i)..]);
            for (var i = 0; i < 16; i++)
                for (var j = 0; j < 8; j++) l[16 * j + i] = (sbyte)codes[8 * i + j];
        }
    }

    /// <summary>Codes against the rounded scale: clamp(nearest_int(x / dj), −32, 31) + 32, 8 lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Requantize(ReadOnlySpan<float> x, Span<sbyte> L, float dj)
    {
        var vdj = Vector256.Create(dj);
        for (var i = 0; i < 16; i += 8)
        {
            var l = LaneMath.Clamp(LaneMath.NearestInt(Vector256.Create(x.Slice(i, 8)) / vdj), -32, 31) + Vector256.Create(32);
            for (var k = 0; k < 8; k++) L[i + k] = (sbyte)l[k];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = KQuantMath.ReadFp16(y[DOffset..]);
        var ql = y.Slice(QlOffset, 128);
        var qh = y.Slice(QhOffset, 64);
        var sc = y.Slice(ScalesOffset, 16);
        for (var n = 0; n < Elements; n += 128)
        {
            for (var l = 0; l < 32; l++)
            {
                var isc = l / 16;
                var q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                var q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                var q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                var q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                x[n + l] = d * (sbyte)sc[isc] * q1;
                x[n + l + 32] = d * (sbyte)sc[isc + 2] * q2;
                x[n + l + 64] = d * (sbyte)sc[isc + 4] * q3;
                x[n + l + 96] = d * (sbyte)sc[isc + 6] * q4;
            }
            ql = ql[64..];
            qh = qh[32..];
            sc = sc[8..];
        }
    }
}
