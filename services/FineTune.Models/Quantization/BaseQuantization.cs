using FineTune.Contracts.Quantization;
using ComputeDTypeName = FineTune.Contracts.Quantization.ComputeDType;
using static TorchSharp.torch;

namespace FineTune.Models.Quantization;

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
    public static QuantizationKind? ParseKind(string? value) => QuantizationNames.ParseKind(value);

    /// <summary>Parses a compute dtype name (float32, bfloat16, float16); null when unknown.</summary>
    public static ScalarType? ParseComputeDType(string? value) => QuantizationNames.ParseComputeDType(value) switch
    {
        ComputeDTypeName.Float32 => ScalarType.Float32,
        ComputeDTypeName.BFloat16 => ScalarType.BFloat16,
        ComputeDTypeName.Float16 => ScalarType.Float16,
        _ => null,
    };
}
