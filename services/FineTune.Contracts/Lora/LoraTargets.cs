namespace FineTune.Contracts.Lora;

/// <summary>The module names a job's <c>lora.target_modules</c> may use (PEFT's names).</summary>
public static class LoraTargets
{
    /// <summary>
    /// Every projection of attention and MLP: the seven of Llama/Qwen/Mistral/Gemma (the Unsloth/Axolotl default) and
    /// Phi-3's fused qkv_proj and gate_up_proj (PEFT's names). As in PEFT, names a model lacks select nothing.
    /// </summary>
    public static readonly IReadOnlyList<string> Default =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj"];

    /// <summary>The target that selects every Linear of attention and MLP (PEFT's "all-linear"; lm_head excluded).</summary>
    public const string AllLinear = "all-linear";
}
