// make_qx_quants with rmse_type 1 (weights x², ggml-quants.c; the scalar form is kept in tests/FineTune.Formats.Tests/
// Gguf/ScalarReferenceQuantizer.cs) run for eight of Q6_K's 16-element sub-blocks at once, one per Vector256 lane.
// Each lane performs the reference's float operations in the reference's order and its branches become per-lane
// selects, so scales and codes are bit-identical to the scalar search. Inputs are transposed: x[i] holds element i of
// every sub-block; L[i] receives q + nmax as a float (0 for an all-but-zero sub-block).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

[SkipLocalsInit]
internal static class QxLanes
{
    private const int N = 16;

    /// <summary>The symmetric scale search over 19 candidate scales; returns the scale per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Search(ReadOnlySpan<Vector256<float>> x, Span<Vector256<float>> L, int nmax)
    {
        Span<Vector256<float>> laux = stackalloc Vector256<float>[N];
        Span<Vector256<float>> w = stackalloc Vector256<float>[N];
        Span<Vector256<float>> wx = stackalloc Vector256<float>[N];
        for (var i = 0; i < N; i++)
        {
            w[i] = x[i] * x[i];
            wx[i] = w[i] * x[i];   // the reference's w·x, which it multiplies by l
        }
        var max = SignedMaxAbs(x, out var amax);
        var zero = Vector256.LessThan(amax, Vector256.Create(KQuantMath.GroupMaxEps));
        var (sumlx, suml2) = Candidate(x, w, wx, L, Vector256.Create((float)-nmax) / max, nmax);
        var scale = LaneMath.Select(Vector256.Equals(suml2, Vector256<float>.Zero), Vector256<float>.Zero, sumlx / suml2);
        var best = scale * sumlx;
        for (var step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            var iscale = Vector256.Create(-(nmax + 0.1f * step)) / max;
            (sumlx, suml2) = Candidate(x, w, wx, laux, iscale, nmax);
            var better = Vector256.GreaterThan(suml2, Vector256<float>.Zero) & Vector256.GreaterThan(sumlx * sumlx, best * suml2);
            if (better == Vector256<float>.Zero) continue;
            for (var i = 0; i < N; i++) L[i] = LaneMath.Select(better, laux[i], L[i]);
            scale = LaneMath.Select(better, sumlx / suml2, scale);
            best = LaneMath.Select(better, scale * sumlx, best);
        }
        var offset = Vector256.Create((float)nmax);
        for (var i = 0; i < N; i++) L[i] = (L[i] + offset) & ~zero;
        return scale & ~zero;
    }

    /// <summary>The signed value of the first largest |x| per lane (0 when none exceeds 0), and that |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector256<float> SignedMaxAbs(ReadOnlySpan<Vector256<float>> x, out Vector256<float> amax)
    {
        Vector256<float> max = default;
        amax = default;
        for (var i = 0; i < N; i++)
        {
            var ax = Vector256.Abs(x[i]);
            var larger = Vector256.GreaterThan(ax, amax);
            amax = LaneMath.Select(larger, ax, amax);
            max = LaneMath.Select(larger, x[i], max);
        }
        return max;
    }

    /// <summary>Codes l for one inverse scale (as floats, without the offset), with Σ w·x·l and Σ w·l² for w = x².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (Vector256<float> SumLx, Vector256<float> SumL2) Candidate(ReadOnlySpan<Vector256<float>> x, ReadOnlySpan<Vector256<float>> w,
        ReadOnlySpan<Vector256<float>> wx, Span<Vector256<float>> L, Vector256<float> iscale, int nmax)
    {
        Vector256<float> sumlx = default, suml2 = default;
        ref var x0 = ref MemoryMarshal.GetReference(x[..N]);   // the slices check the lengths once; the loop then indexes by ref
        ref var w0 = ref MemoryMarshal.GetReference(w[..N]);
        ref var wx0 = ref MemoryMarshal.GetReference(wx[..N]);
        ref var l0 = ref MemoryMarshal.GetReference(L[..N]);
        for (var i = 0; i < N; i++)
        {
            var lf = Vector256.ConvertToSingle(LaneMath.Clamp(LaneMath.NearestInt(iscale * Unsafe.Add(ref x0, i)), -nmax, nmax - 1));
            Unsafe.Add(ref l0, i) = lf;
            sumlx += Unsafe.Add(ref wx0, i) * lf;
            suml2 += Unsafe.Add(ref w0, i) * lf * lf;
        }
        return (sumlx, suml2);
    }
}
