namespace FineTune.Contracts.Quantization;

/// <summary>How the frozen base's Linear weights are stored while LoRA trains on top of them (a job's <c>lora.quantization</c>).</summary>
public enum QuantizationKind
{
    /// <summary>Full precision: the loaded dtype.</summary>
    None,

    /// <summary>QLoRA's 4-bit NormalFloat (bitsandbytes' <c>nf4</c>): block-wise absmax, 16 code values.</summary>
    Nf4,

    /// <summary>8-bit integers with one absmax scale per output row (the weight side of LLM.int8()).</summary>
    Int8,
}
