namespace FineTune.Contracts.Quantization;

/// <summary>The dtypes quantized weights may be dequantized to for the matmul (a job's <c>lora.compute_dtype</c>, bnb_4bit_compute_dtype).</summary>
public enum ComputeDType
{
    Float32,
    BFloat16,
    Float16,
}
