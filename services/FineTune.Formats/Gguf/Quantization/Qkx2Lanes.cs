// make_qkx2_quants (ggml-quants.c; the scalar form is kept in tests/FineTune.Formats.Tests/Gguf/
// ScalarReferenceQuantizer.cs) run for Q4_K's eight 32-element sub-blocks at once, one sub-block per Vector256 lane.
// Each lane performs the reference's float operations in the reference's order (sums accumulate element by element;
// no fused multiply-add), and its branches become per-lane selects, so scales, mins and codes are bit-identical to
// the scalar search. Inputs are transposed: x[i] holds element i of every sub-block; codes are kept as floats (small
// integers, exact) so the error sums need no conversions.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

[SkipLocalsInit]
internal static class Qkx2Lanes
{
    private const int N = 32;

    /// <summary>
    /// The (scale, min) search with nmax, rmin, rdelta, nstep as given; <paramref name="L"/> receives the codes,
    /// <paramref name="theMin"/> −min per lane; returns the scale per lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Search(ReadOnlySpan<Vector256<float>> x, ReadOnlySpan<Vector256<float>> w, Span<Vector256<float>> L,
        out Vector256<float> theMin, int nmax, float rmin, float rdelta, int nstep)
    {
        Span<Vector256<float>> laux = stackalloc Vector256<float>[N];
        Sums(x, w, out var min, out var max, out var sumW, out var sumX);
        min = LaneMath.Select(Vector256.GreaterThan(min, Vector256<float>.Zero), Vector256<float>.Zero, min);
        var degenerate = Vector256.Equals(max, min);
        var degenerateMin = min;
        var iscale = Vector256.Create((float)nmax) / (max - min);
        var scale = Vector256<float>.One / iscale;
        var bestMad = Quantize(x, w, L, iscale, min, scale, nmax);
        for (var step = 0; step <= nstep; step++)
        {
            var stepIscale = Vector256.Create(rmin + rdelta * step + nmax) / (max - min);   // min moves with each better candidate
            var (sumL, sumL2, sumXl) = Candidate(x, w, laux, stepIscale, min, nmax);
            var D = sumW * sumL2 - sumL * sumL;
            var thisScale = (sumW * sumXl - sumX * sumL) / D;
            var thisMin = (sumL2 * sumX - sumL * sumXl) / D;
            var clampMin = Vector256.GreaterThan(thisMin, Vector256<float>.Zero);
            thisMin = LaneMath.Select(clampMin, Vector256<float>.Zero, thisMin);
            thisScale = LaneMath.Select(clampMin, sumXl / sumL2, thisScale);
            var mad = Mad(x, w, laux, thisScale, thisMin);
            var better = Vector256.GreaterThan(D, Vector256<float>.Zero) & Vector256.LessThan(mad, bestMad);
            if (better == Vector256<float>.Zero) continue;
            for (var i = 0; i < N; i++) L[i] = LaneMath.Select(better, laux[i], L[i]);
            bestMad = LaneMath.Select(better, mad, bestMad);
            scale = LaneMath.Select(better, thisScale, scale);
            min = LaneMath.Select(better, thisMin, min);
        }
        for (var i = 0; i < N; i++) L[i] = L[i] & ~degenerate;
        theMin = LaneMath.Select(degenerate, degenerateMin, min) ^ Vector256.Create(-0f);   // −min, as IEEE negation
        return scale & ~degenerate;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sums(ReadOnlySpan<Vector256<float>> x, ReadOnlySpan<Vector256<float>> w,
        out Vector256<float> min, out Vector256<float> max, out Vector256<float> sumW, out Vector256<float> sumX)
    {
        min = max = x[0];
        sumW = w[0];
        sumX = sumW * x[0];
        for (var i = 1; i < N; i++)
        {
            min = LaneMath.Select(Vector256.LessThan(x[i], min), x[i], min);
            max = LaneMath.Select(Vector256.GreaterThan(x[i], max), x[i], max);
            sumW += w[i];
            sumX += w[i] * x[i];
        }
    }

    /// <summary>The first candidate (iscale = nmax/(max−min)): its codes and weighted squared error.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Quantize(ReadOnlySpan<Vector256<float>> x, ReadOnlySpan<Vector256<float>> w, Span<Vector256<float>> L,
        Vector256<float> iscale, Vector256<float> min, Vector256<float> scale, int nmax)
    {
        var mad = Vector256<float>.Zero;
        ref var x0 = ref MemoryMarshal.GetReference(x[..N]);
        ref var w0 = ref MemoryMarshal.GetReference(w[..N]);
        ref var l0 = ref MemoryMarshal.GetReference(L[..N]);
        for (var i = 0; i < N; i++)
        {
            var xi = Unsafe.Add(ref x0, i);
            var l = Vector256.ConvertToSingle(LaneMath.Clamp(LaneMath.NearestInt(iscale * (xi - min)), 0, nmax));
            Unsafe.Add(ref l0, i) = l;
            var diff = scale * l + min - xi;
            mad += Unsafe.Add(ref w0, i) * (diff * diff);   // w · diff², as ggml rounds it: (w · diff) · diff can differ in the last bit
        }
        return mad;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Vector256<float> SumL, Vector256<float> SumL2, Vector256<float> SumXl) Candidate(ReadOnlySpan<Vector256<float>> x,
        ReadOnlySpan<Vector256<float>> w, Span<Vector256<float>> laux, Vector256<float> iscale, Vector256<float> min, int nmax)
    {
        Vector256<float> sumL = default, sumL2 = default, sumXl = default;
        ref var x0 = ref MemoryMarshal.GetReference(x[..N]);   // the slices check the lengths once; the loop then indexes by ref
        ref var w0 = ref MemoryMarshal.GetReference(w[..N]);
        ref var l0 = ref MemoryMarshal.GetReference(laux[..N]);
        for (var i = 0; i < N; i++)
        {
            var xi = Unsafe.Add(ref x0, i);
            var lf = Vector256.ConvertToSingle(LaneMath.Clamp(LaneMath.NearestInt(iscale * (xi - min)), 0, nmax));
            Unsafe.Add(ref l0, i) = lf;
            var wl = Unsafe.Add(ref w0, i) * lf;
            sumL += wl;
            sumL2 += wl * lf;
            sumXl += wl * xi;
        }
        return (sumL, sumL2, sumXl);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> Mad(ReadOnlySpan<Vector256<float>> x, ReadOnlySpan<Vector256<float>> w, ReadOnlySpan<Vector256<float>> laux,
        Vector256<float> scale, Vector256<float> min)
    {
        var mad = Vector256<float>.Zero;
        ref var x0 = ref MemoryMarshal.GetReference(x[..N]);
        ref var w0 = ref MemoryMarshal.GetReference(w[..N]);
        ref var l0 = ref MemoryMarshal.GetReference(laux[..N]);
        for (var i = 0; i < N; i++)
        {
            var diff = scale * Unsafe.Add(ref l0, i) + min - Unsafe.Add(ref x0, i);
            mad += Unsafe.Add(ref w0, i) * (diff * diff);
        }
        return mad;
    }
}
