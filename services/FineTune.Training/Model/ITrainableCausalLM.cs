using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Model;

/// <summary>
/// The surface of a decoder-only language model that the trainer needs. FineTune.Models' CausalLM provides it
/// (through an adapter in this folder); tests may supply tiny stand-ins of their own.
/// </summary>
public interface ITrainableCausalLM
{
    /// <summary>The model as a TorchSharp module: parameters, state_dict (HF keys), train/eval.</summary>
    nn.Module Module { get; }

    /// <summary>HF paths of every Linear in attention and MLP, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    IReadOnlyList<string> LinearModulePaths { get; }

    /// <summary>Replaces the Linear at <paramref name="path"/> with what <paramref name="replace"/> builds from it.</summary>
    void ReplaceLinear(string path, Func<Linear, nn.Module<Tensor, Tensor>> replace);

    /// <summary>
    /// Replaces the projection at <paramref name="path"/>, whatever it is now (a Linear, or a QuantizedLinear a
    /// quantizing loader put there), with what <paramref name="replace"/> builds from it. Models whose projections are
    /// always Linears need not implement it.
    /// </summary>
    void ReplaceModule(string path, Func<nn.Module<Tensor, Tensor>, nn.Module<Tensor, Tensor>> replace) =>
        ReplaceLinear(path, linear => replace(linear));

    /// <summary>
    /// Final hidden states (B, T, H). <paramref name="segmentIds"/> (B, T): a token attends only to earlier tokens
    /// of the same segment; 0 marks padding. <paramref name="positionIds"/> (B, T) restart at 0 in each segment.
    /// </summary>
    Tensor ForwardHidden(Tensor inputIds, Tensor? positionIds, Tensor? segmentIds);

    /// <summary>Logits for hidden rows: (..., H) → (..., V).</summary>
    Tensor LmHead(Tensor hidden);

    /// <summary>Vocabulary size V.</summary>
    long VocabSize { get; }

    /// <summary>
    /// Turns activation checkpointing of the decoder layers on or off (training.gradient_checkpointing): activations are
    /// recomputed in the backward pass instead of kept. Models that cannot do it refuse to turn it on.
    /// </summary>
    void SetGradientCheckpointing(bool enabled)
    {
        if (enabled) throw new NotSupportedException($"{GetType().Name} does not support gradient checkpointing (training.gradient_checkpointing)");
    }
}
