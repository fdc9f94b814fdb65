using FineTune.Contracts.Lora;
using FineTune.Models.Quantization;

namespace FineTune.Training.Lora;

/// <summary>
/// LoRA hyper-parameters, named as PEFT's LoraConfig names them (adapter_config.json carries the same values).
/// </summary>
public sealed record LoraOptions
{
    /// <summary>Every projection of attention and MLP (<see cref="LoraTargets.Default"/>).</summary>
    public static readonly IReadOnlyList<string> DefaultTargets = LoraTargets.Default;

    /// <summary>The target that selects every Linear of attention and MLP (PEFT's "all-linear"; lm_head excluded).</summary>
    public const string AllLinear = LoraTargets.AllLinear;

    /// <summary>Rank r of the update B·A.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>lora_alpha: the update is scaled by alpha / r (or alpha / sqrt(r) with rsLoRA).</summary>
    public double Alpha { get; init; } = 16;

    /// <summary>Dropout applied to the LoRA branch's input during training.</summary>
    public double Dropout { get; init; }

    /// <summary>Module names (matched against the last path components) or "all-linear".</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = DefaultTargets;

    /// <summary>rsLoRA: scale alpha / sqrt(r) instead of alpha / r.</summary>
    public bool UseRsLora { get; init; }

    /// <summary>Modules trained in full and saved with the adapter, e.g. embed_tokens, lm_head.</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];

    /// <summary>How the frozen base is stored while training: none, NF4 (QLoRA) or int8 (lora.quantization).</summary>
    public BaseQuantization Quantization { get; init; } = BaseQuantization.None;

    /// <summary>The factor applied to B·A.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;
}
