namespace FineTune.Contracts.Quantization;

/// <summary>
/// The job-file spellings of the frozen base's quantization: <c>lora.quantization</c> (none, nf4, int8) and
/// <c>lora.compute_dtype</c> (float32, bfloat16, float16), with the aliases the tools around us accept.
/// </summary>
public static class QuantizationNames
{
    /// <summary>Parses <c>lora.quantization</c>; null when it is not one of none, nf4, int8 (or 4bit, 8bit).</summary>
    public static QuantizationKind? ParseKind(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" => QuantizationKind.None,
        "nf4" or "4bit" => QuantizationKind.Nf4,
        "int8" or "8bit" => QuantizationKind.Int8,
        _ => null,
    };

    /// <summary>Parses a compute dtype name (float32, bfloat16, float16 and their short forms); null when unknown.</summary>
    public static ComputeDType? ParseComputeDType(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ComputeDType.Float32,
        "bfloat16" or "bf16" => ComputeDType.BFloat16,
        "float16" or "fp16" or "f16" => ComputeDType.Float16,
        _ => null,
    };
}
