// Scalar helpers shared by the reference quantizers (ggml-quants.c, the `_ref` paths that llama-quantize uses without
// an imatrix), re-derived from the algorithm description: round-half-even nearest_int, fp16/bf16 conversion with
// round-to-nearest-even, and the two scale searches (make_qx_quants for symmetric Q6_K sub-blocks, make_qkx2_quants
// for Q4_K's scale+min sub-blocks). Hand-written: no ggml binding exists for .NET here.
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

    public static float FromBf16(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

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
            bestMad += weights[i] * diff * diff;
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
                    mad += weights[i] * diff * diff;
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
}
