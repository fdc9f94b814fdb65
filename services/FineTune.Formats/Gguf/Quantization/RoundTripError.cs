// The error of a quantize → dequantize round trip, accumulated block by block while both are in cache: Σ(y − x)² and
// Σx² in double (as QuantizationErrorBound.RelativeRmsError computes them), four lanes at a time.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

public readonly record struct RoundTripError(double ErrorSquares, double OriginalSquares)
{
    /// <summary>RMS(y − x) / RMS(x); the absolute RMS error when x is all zero.</summary>
    public double Relative => OriginalSquares == 0 ? Math.Sqrt(ErrorSquares) : Math.Sqrt(ErrorSquares / OriginalSquares);

    public static RoundTripError operator +(RoundTripError a, RoundTripError b) =>
        new(a.ErrorSquares + b.ErrorSquares, a.OriginalSquares + b.OriginalSquares);

    /// <summary>The error of <paramref name="roundTripped"/> against <paramref name="original"/> (equal lengths, a multiple of 8 or any length).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static RoundTripError Of(ReadOnlySpan<float> original, ReadOnlySpan<float> roundTripped)
    {
        Vector256<double> err = default, norm = default;
        var i = 0;
        for (; i + 8 <= original.Length; i += 8)
        {
            var (xl, xh) = Vector256.Widen(Vector256.Create(original.Slice(i, 8)));
            var (yl, yh) = Vector256.Widen(Vector256.Create(roundTripped.Slice(i, 8)));
            var dl = yl - xl;
            var dh = yh - xh;
            err += dl * dl + dh * dh;
            norm += xl * xl + xh * xh;
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
