using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

/// <summary>How the frozen base's Linear weights are stored while LoRA trains on top of them.</summary>
public enum QuantizationKind
{
    /// <summary>Full precision: the loaded dtype.</summary>
    None,

    /// <summary>QLoRA's 4-bit NormalFloat (bitsandbytes' <c>nf4</c>): block-wise absmax, 16 code values.</summary>
    Nf4,

    /// <summary>8-bit integers with one absmax scale per output row (the weight side of LLM.int8()).</summary>
    Int8,
}

/// <summary>
/// The quantization of a frozen base, named as Hugging Face's BitsAndBytesConfig names it (<c>bnb_4bit_quant_type</c>,
/// <c>bnb_4bit_use_double_quant</c>, <c>bnb_4bit_compute_dtype</c>). Block size 64 is bitsandbytes' default for 4-bit
/// weights; double quantization stores the per-block absmax in 8 bits (blocks of 256) instead of FP32.
/// </summary>
public sealed record BaseQuantization
{
    public static readonly BaseQuantization None = new();

    public QuantizationKind Kind { get; init; }

    /// <summary>Quantize the NF4 block scales again (QLoRA's double quantization): 0.127 bit per weight saved.</summary>
    public bool DoubleQuant { get; init; } = true;

    /// <summary>Weights per NF4 block (bitsandbytes: 64).</summary>
    public int BlockSize { get; init; } = Nf4.DefaultBlockSize;

    /// <summary>The dtype weights are dequantized to for the matmul; null: the input's dtype.</summary>
    public ScalarType? ComputeDType { get; init; }

    public bool IsQuantized => Kind != QuantizationKind.None;

    /// <summary>The job-file spelling: none, nf4 or int8.</summary>
    public string Name => Kind switch { QuantizationKind.Nf4 => "nf4", QuantizationKind.Int8 => "int8", _ => "none" };

    /// <summary>Parses the job-file value (<c>lora.quantization</c>); null when it is not one of none, nf4, int8.</summary>
    public static QuantizationKind? ParseKind(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "none" => QuantizationKind.None,
        "nf4" or "4bit" => QuantizationKind.Nf4,
        "int8" or "8bit" => QuantizationKind.Int8,
        _ => null,
    };

    /// <summary>Parses a compute dtype name (float32, bfloat16, float16); null when unknown.</summary>
    public static ScalarType? ParseComputeDType(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" => ScalarType.Float16,
        _ => null,
    };
}
