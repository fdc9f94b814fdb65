// Error bounds used to check a quantized tensor against its float32 original (export self-check and tests).
// Per type: the largest RMS error allowed relative to the RMS of the original, derived from the step size of a
// uniform quantizer (Δ/√12) for Gaussian-like weights with some margin; F32 is exact, F16/BF16 are bounded by their
// mantissa (11 and 8 bits).
namespace FineTune.Formats.Gguf.Quantization;

public static class QuantizationErrorBound
{
    /// <summary>Maximum RMS(dequantized − original) / RMS(original).</summary>
    public static double RelativeRms(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1e-3,
        GgmlType.BF16 => 6e-3,
        GgmlType.Q8_0 => 0.01,
        GgmlType.Q6_K => 0.035,
        GgmlType.Q5_0 => 0.07,
        GgmlType.Q4_K => 0.12,
        GgmlType.Q4_0 => 0.13,
        _ => throw new NotSupportedException($"No error bound for {type}."),
    };

    public static double RelativeRmsError(ReadOnlySpan<float> original, ReadOnlySpan<float> roundTripped)
    {
        if (original.Length != roundTripped.Length) throw new ArgumentException("Lengths differ.");
        double err = 0, norm = 0;
        for (var i = 0; i < original.Length; i++)
        {
            var d = (double)roundTripped[i] - original[i];
            err += d * d;
            norm += (double)original[i] * original[i];
        }
        return norm == 0 ? Math.Sqrt(err) : Math.Sqrt(err / norm);
    }
}
