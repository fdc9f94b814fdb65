// Q4_K super-block {fp16 d; fp16 dmin; u8 scales[12]; u8 qs[128]} of 256 = 8 sub-blocks of 32 (ggml-common.h).
// Reference math (ggml-quants.c, shared/reference/gguf-ollama.md §2): per sub-block weights sqrt(mean x²)+|x|,
// (scale, min) by make_qkx2_quants(nmax 15, rmin −1, rdelta 0.1, nstep 20); 6-bit scale/min codes against
// d = max_scale/63 and dmin = max_min/63 packed into 12 bytes; 4-bit codes L = (x + dmin·m)/(d·sc). The search runs
// on all 8 sub-blocks at once (Qkx2Lanes), bit-identical to the scalar reference kept in the tests.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

[SkipLocalsInit]   // every stack buffer is written in full before it is read
internal static class Q4_K
{
    public const int Elements = 256;
    public const int Bytes = 144;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<byte> L = stackalloc byte[Elements];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        SearchSubBlocks(x, L, scales, mins);
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        var sc = y.Slice(4, 12);
        PackScales(sc, scales, mins, maxScale > 0 ? 63f / maxScale : 0f, maxMin > 0 ? 63f / maxMin : 0f);
        KQuantMath.WriteFp16(y, maxScale / 63f);
        KQuantMath.WriteFp16(y[2..], maxMin / 63f);
        var d = KQuantMath.ReadFp16(y);
        var dmin = KQuantMath.ReadFp16(y[2..]);
        for (var j = 0; j < 8; j++)
        {
            ScaleMin(j, sc, out var s, out var m);
            var dj = d * s;
            if (dj == 0) continue;
            Requantize(x.Slice(32 * j, 32), L.Slice(32 * j, 32), dmin * m, dj);
        }
        var q = y[16..];
        for (var j = 0; j < Elements; j += 64)
        {
            for (var l = 0; l < 32; l++) q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
            q = q[32..];
        }
    }

    /// <summary>make_qkx2_quants(15, −1, 0.1, 20) on the 8 sub-blocks (one per lane) with weights sqrt(mean x²) + |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SearchSubBlocks(ReadOnlySpan<float> x, Span<byte> L, Span<float> scales, Span<float> mins)
    {
        Span<Vector256<float>> xt = stackalloc Vector256<float>[32];
        Span<Vector256<float>> w = stackalloc Vector256<float>[32];
        Span<Vector256<float>> lt = stackalloc Vector256<float>[32];
        var sumX2 = Vector256<float>.Zero;
        for (var i = 0; i < 32; i++)
        {
            xt[i] = Vector256.Create(x[i], x[32 + i], x[64 + i], x[96 + i], x[128 + i], x[160 + i], x[192 + i], x[224 + i]);
            sumX2 += xt[i] * xt[i];
        }
        var avX = Vector256.Sqrt(sumX2 / Vector256.Create(32f));
        for (var i = 0; i < 32; i++) w[i] = avX + Vector256.Abs(xt[i]);
        var scale = Qkx2Lanes.Search(xt, w, lt, out var theMin, 15, -1f, 0.1f, 20);
        scale.CopyTo(scales);
        theMin.CopyTo(mins);
        Span<int> codes = stackalloc int[256];
        for (var i = 0; i < 32; i++) Vector256.ConvertToInt32(lt[i]).CopyTo(codes[(8 * i)..]);
        for (var i = 0; i < 32; i++)
            for (var j = 0; j < 8; j++) L[32 * j + i] = (byte)codes[8 * i + j];
    }

    /// <summary>The 6-bit scale and min codes, packed into 12 bytes as get_scale_min_k4 reads them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackScales(Span<byte> sc, ReadOnlySpan<float> scales, ReadOnlySpan<float> mins, float invScale, float invMin)
    {
        sc.Clear();
        for (var j = 0; j < 8; j++)
        {
            var ls = (byte)Math.Min(63, KQuantMath.NearestInt(invScale * scales[j]));
            var lm = (byte)Math.Min(63, KQuantMath.NearestInt(invMin * mins[j]));
            if (j < 4)
            {
                sc[j] = ls;
                sc[j + 4] = lm;
            }
            else
            {
                sc[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                sc[j - 4] |= (byte)((ls >> 4) << 6);
                sc[j] |= (byte)((lm >> 4) << 6);
            }
        }
    }

    /// <summary>Codes against the rounded scales: clamp(nearest_int((x + dm) / dj), 0, 15), 8 lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Requantize(ReadOnlySpan<float> x, Span<byte> L, float dm, float dj)
    {
        var vdm = Vector256.Create(dm);
        var vdj = Vector256.Create(dj);
        for (var i = 0; i < 32; i += 8)
        {
            var l = LaneMath.Clamp(LaneMath.NearestInt((Vector256.Create(x.Slice(i, 8)) + vdm) / vdj), 0, 15);
            Vector128.Narrow(Vector256.Narrow(l, l).GetLower(), default).AsByte().GetLower().CopyTo(L[i..]);
        }
    }

    /// <summary>get_scale_min_k4: the 6-bit scale and min codes of sub-block j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaleMin(int j, ReadOnlySpan<byte> q, out int sc, out int m)
    {
        if (j < 4)
        {
            sc = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeBlock(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = KQuantMath.ReadFp16(y);
        var dmin = KQuantMath.ReadFp16(y[2..]);
        var sc = y.Slice(4, 12);
        var q = y[16..];
        var i = 0;
        for (var j = 0; j < Elements; j += 64)
        {
            ScaleMin(i, sc, out var s1, out var m1);
            ScaleMin(i + 1, sc, out var s2, out var m2);
            float d1 = d * s1, mm1 = dmin * m1, d2 = d * s2, mm2 = dmin * m2;
            for (var l = 0; l < 32; l++) x[j + l] = d1 * (q[l] & 0xF) - mm1;
            for (var l = 0; l < 32; l++) x[j + 32 + l] = d2 * (q[l] >> 4) - mm2;
            q = q[32..];
            i += 2;
        }
    }
}
