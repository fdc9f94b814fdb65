// The error of a quantize → dequantize round trip, accumulated block by block while both are in cache: Σ(y − x)² and
// Σx², eight lanes at a time in float within one call (a block), then added up across blocks in double.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

public readonly record struct RoundTripError(double ErrorSquares, double OriginalSquares)
{
    /// <summary>RMS(y − x) / RMS(x); the absolute RMS error when x is all zero.</summary>
    public double Relative => OriginalSquares == 0 ? Math.Sqrt(ErrorSquares) : Math.Sqrt(ErrorSquares / OriginalSquares);

    public static RoundTripError operator +(RoundTripError a, RoundTripError b) =>
        new(a.ErrorSquares + b.ErrorSquares, a.OriginalSquares + b.OriginalSquares);

    /// <summary>
    /// The error of <paramref name="roundTripped"/> against <paramref name="original"/> (equal lengths; meant for one
    /// block: the sums are taken in float, whose rounding over a few hundred terms is far below any error bound).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static RoundTripError Of(ReadOnlySpan<float> original, ReadOnlySpan<float> roundTripped)
    {
        if (roundTripped.Length != original.Length) throw new ArgumentException("The round trip must have as many values as the original.");
        Vector256<float> err = default, norm = default;
        var i = 0;
        for (; i + 8 <= original.Length; i += 8)
        {
            var x = Vector256.Create(original.Slice(i, 8));
            var d = Vector256.Create(roundTripped.Slice(i, 8)) - x;
            err = Vector256.FusedMultiplyAdd(d, d, err);
            norm = Vector256.FusedMultiplyAdd(x, x, norm);
        }
        double e = Vector256.Sum(err), n = Vector256.Sum(norm);
        for (; i < original.Length; i++)
        {
            var d = (double)roundTripped[i] - original[i];
            e += d * d;
            n += (double)original[i] * original[i];
        }
        return new(e, n);
    }
}
