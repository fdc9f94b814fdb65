// The scalar quantizers as they were before vectorisation (ggml-quants.c's reference paths, statement for statement):
// the test-only reference that the optimised Q8_0, Q5_0, Q4_K and Q6_K kernels must match byte for byte. Float→int8
// casts follow C on this machine (CInt8), and LlamaCppQuantizerParityTests checks the whole against llama.cpp itself.
using System.Buffers.Binary;
using FineTune.Formats.Gguf;

namespace FineTune.Formats.Tests.Gguf;

internal static class ScalarReferenceQuantizer
{
    /// <summary>Quantizes whole blocks of <paramref name="x"/> one after the other.</summary>
    public static byte[] Quantize(GgmlType type, float[] x)
    {
        var (elements, bytes, block) = type switch
        {
            GgmlType.Q8_0 => (32, 34, (BlockFn)Q8_0Block),
            GgmlType.Q5_0 => (32, 22, Q5_0Block),
            GgmlType.Q4_K => (256, 144, Q4_KBlock),
            GgmlType.Q6_K => (256, 210, Q6_KBlock),
            _ => throw new NotSupportedException($"No scalar reference for {type}."),
        };
        var y = new byte[x.Length / elements * bytes];
        for (var b = 0; b < x.Length / elements; b++) block(x.AsSpan(b * elements, elements), y.AsSpan(b * bytes, bytes));
        return y;
    }

    private delegate void BlockFn(ReadOnlySpan<float> x, Span<byte> y);

    /// <summary>Sub-blocks whose largest |x| is below this are quantized to zero (GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round half to even via the 1.5·2^23 magic add, exactly as float arithmetic does it.</summary>
    public static int NearestInt(float f)
    {
        var val = f + 12582912f;
        var i = BitConverter.SingleToInt32Bits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    /// <summary>C's (int8_t) cast of a float as compiled here: the native float→int conversion (x86: int.MinValue for NaN and out-of-range), then the low byte.</summary>
    public static sbyte CInt8(float f) => (sbyte)float.ConvertToIntegerNative<int>(f);

    public static ushort ToFp16(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    public static float FromFp16(ushort h) => (float)BitConverter.UInt16BitsToHalf(h);

    public static float ReadFp16(ReadOnlySpan<byte> b) => FromFp16(BinaryPrimitives.ReadUInt16LittleEndian(b));

    public static void WriteFp16(Span<byte> b, float f) => BinaryPrimitives.WriteUInt16LittleEndian(b, ToFp16(f));

    /// <summary>
    /// Symmetric scale search: L[i] in [0, 2·nmax) holds q + nmax; returns the scale. rmseType 1 weights by x².
    /// </summary>
    public static float MakeQxQuants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> L, int rmseType)
    {
        float max = 0, amax = 0;
        for (var i = 0; i < n; i++)
        {
            var ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            L[..n].Clear();
            return 0f;
        }
        var iscale = -nmax / max;
        if (rmseType == 0)
        {
            for (var i = 0; i < n; i++)
            {
                var l = NearestInt(iscale * x[i]);
                L[i] = (sbyte)(nmax + Math.Clamp(l, -nmax, nmax - 1));
            }
            return 1 / iscale;
        }
        float sumlx = 0, suml2 = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            L[i] = (sbyte)(l + nmax);
            var w = Weight(x[i], rmseType);
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        var scale = suml2 != 0 ? sumlx / suml2 : 0f;
        var best = scale * sumlx;
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                var w = Weight(x[i], rmseType);
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (var i = 0; i < n; i++)
                    L[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    private static float Weight(float x, int rmseType) => rmseType switch
    {
        1 => x * x,
        2 => 1f,
        3 => MathF.Abs(x),
        _ => MathF.Sqrt(MathF.Abs(x)),
    };

    // Long on purpose: a numeric kernel kept statement for statement with ggml-quants.c's make_qkx2_quants, so that
    // byte-identical output against llama.cpp can be checked by reading the two side by side; helpers would hide that.
    /// <summary>
    /// Asymmetric (scale, min) search over nstep+1 candidate inverse scales, weighted squared error.
    /// L[i] in [0, nmax]; returns the scale and sets <paramref name="theMin"/> to −min (a non-negative offset).
    /// </summary>
    public static float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights,
        Span<byte> L, out float theMin, Span<byte> Laux, float rmin, float rdelta, int nstep)
    {
        var min = x[0];
        var max = x[0];
        var sumW = weights[0];
        var sumX = sumW * x[0];
        for (var i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            var w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            L[..n].Clear();
            theMin = -min;
            return 0f;
        }
        var iscale = nmax / (max - min);
        var scale = 1 / iscale;
        float bestMad = 0;
        for (var i = 0; i < n; i++)
        {
            var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            L[i] = (byte)l;
            var diff = scale * L[i] + min - x[i];
            bestMad += weights[i] * (diff * diff);   // ggml: diff = diff*diff; error += w*diff
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (var step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (var i = 0; i < n; i++)
            {
                var l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                Laux[i] = (byte)l;
                var w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }
            var D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                var thisScale = (sumW * sumXl - sumX * sumL) / D;
                var thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float mad = 0;
                for (var i = 0; i < n; i++)
                {
                    var diff = thisScale * Laux[i] + thisMin - x[i];
                    mad += weights[i] * (diff * diff);
                }
                if (mad < bestMad)
                {
                    Laux[..n].CopyTo(L);
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    public static void Q5_0Block(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0, max = 0;
        for (var j = 0; j < 32; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        var d = max / -16;
        var id = d != 0 ? 1 / d : 0;
        WriteFp16(y, d);
        uint qh = 0;
        for (var j = 0; j < 32 / 2; j++)
        {
            var q0 = Math.Min(31, (int)CInt8(x[j] * id + 16.5f));
            var q1 = Math.Min(31, (int)CInt8(x[j + 16] * id + 16.5f));
            y[6 + j] = (byte)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint)((q0 & 0x10) >> 4) << j;
            qh |= (uint)((q1 & 0x10) >> 4) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(y[2..], qh);
    }

    public static void Q5_0Dequantize(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = ReadFp16(y);
        var qh = BinaryPrimitives.ReadUInt32LittleEndian(y[2..]);
        for (var j = 0; j < 16; j++)
        {
            var h0 = (int)((qh >> j) << 4) & 0x10;
            var h1 = (int)(qh >> (j + 12)) & 0x10;
            x[j] = (((y[6 + j] & 0xF) | h0) - 16) * d;
            x[j + 16] = (((y[6 + j] >> 4) | h1) - 16) * d;
        }
    }

    public static void Q8_0Dequantize(ReadOnlySpan<byte> y, Span<float> x)
    {
        var d = ReadFp16(y);
        for (var j = 0; j < 32; j++) x[j] = (sbyte)y[2 + j] * d;
    }

    public static void Q8_0Block(ReadOnlySpan<float> x, Span<byte> y)
    {
        float amax = 0;
        for (var j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        var d = amax / 127;
        var id = d != 0 ? 1 / d : 0;
        WriteFp16(y, d);
        for (var j = 0; j < 32; j++)
            y[2 + j] = (byte)CInt8(MathF.Round(x[j] * id, MidpointRounding.AwayFromZero));
    }

    public static void Q4_KBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<byte> L = stackalloc byte[256];
        Span<byte> laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[8];
        Span<float> scales = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (var j = 0; j < 8; j++)
        {
            var sub = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (var l = 0; l < 32; l++) sumX2 += sub[l] * sub[l];
            var avX = MathF.Sqrt(sumX2 / 32);
            for (var l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(sub[l]);
            scales[j] = MakeQkx2Quants(32, 15, sub, weights, L.Slice(32 * j, 32), out mins[j], laux, -1f, 0.1f, 20);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        var invScale = maxScale > 0 ? 63f / maxScale : 0f;
        var invMin = maxMin > 0 ? 63f / maxMin : 0f;
        var sc = y.Slice(4, 12);
        sc.Clear();
        for (var j = 0; j < 8; j++)
        {
            var ls = (byte)Math.Min(63, NearestInt(invScale * scales[j]));
            var lm = (byte)Math.Min(63, NearestInt(invMin * mins[j]));
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
        WriteFp16(y, maxScale / 63f);
        WriteFp16(y[2..], maxMin / 63f);
        var d = ReadFp16(y);
        var dmin = ReadFp16(y[2..]);
        for (var j = 0; j < 8; j++)
        {
            Q4_KScaleMin(j, sc, out var s, out var m);
            var dj = d * s;
            if (dj == 0) continue;
            var dm = dmin * m;
            for (var ii = 0; ii < 32; ii++)
                L[32 * j + ii] = (byte)Math.Clamp(NearestInt((x[32 * j + ii] + dm) / dj), 0, 15);
        }
        var q = y[16..];
        for (var j = 0; j < 256; j += 64)
        {
            for (var l = 0; l < 32; l++) q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
            q = q[32..];
        }
    }

    public static void Q6_KBlock(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (var ib = 0; ib < 16; ib++)
        {
            var scale = MakeQxQuants(16, 32, x.Slice(16 * ib, 16), L.Slice(16 * ib, 16), 1);
            scales[ib] = scale;
            var abs = MathF.Abs(scale);
            if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scale; }
        }
        if (maxAbsScale < GroupMaxEps)
        {
            y[..210].Clear();
            return;
        }
        var iscale = -128f / maxScale;
        WriteFp16(y[208..], 1 / iscale);
        var sc = y.Slice(192, 16);
        for (var ib = 0; ib < 16; ib++) sc[ib] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * scales[ib]));
        var d = ReadFp16(y[208..]);
        for (var j = 0; j < 16; j++)
        {
            var dj = d * (sbyte)sc[j];
            if (dj == 0) continue;
            for (var ii = 0; ii < 16; ii++)
            {
                var l = Math.Clamp(NearestInt(x[16 * j + ii] / dj), -32, 31);
                L[16 * j + ii] = (sbyte)(l + 32);
            }
        }
        var ql = y.Slice(0, 128);
        var qh = y.Slice(128, 64);
        for (var j = 0; j < 256; j += 128)
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

    /// <summary>get_scale_min_k4: the 6-bit scale and min codes of sub-block j.</summary>
    private static void Q4_KScaleMin(int j, ReadOnlySpan<byte> q, out int sc, out int m)
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

}
