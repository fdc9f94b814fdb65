using FineTune.Training.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Sft;

/// <summary>
/// Next-token cross-entropy summed over labelled positions only: the LM head runs on those rows alone (as TRL's
/// chunked NLL does), in FP32. The caller divides by the label count of the whole accumulated batch, so the gradient
/// does not depend on how the batch is split into micro-batches.
/// </summary>
public static class CausalLmLoss
{
    /// <summary>Σ −log p(label) over labelled positions of <paramref name="batch"/>, a scalar FP32 tensor.</summary>
    public static Tensor Sum(ITrainableCausalLM model, SftBatch batch)
    {
        using var scope = NewDisposeScope();
        var hidden = model.ForwardHidden(batch.InputIds, batch.PositionIds, batch.SegmentIds); // (B, T, H)
        return SumFromHidden(model, hidden, batch).MoveToOuterDisposeScope();
    }

    /// <summary>The loss half of <see cref="Sum"/>: LM head on the labelled rows of <paramref name="hidden"/> (B, T, H), summed CE.</summary>
    public static Tensor SumFromHidden(ITrainableCausalLM model, Tensor hidden, SftBatch batch)
    {
        using var scope = NewDisposeScope();
        var flatLabels = batch.Labels.reshape(-1);                                           // (B·T)
        using var ignore = Sft.SftSequence.IgnoreIndex.ToScalar();                            // owned: alive until ne has returned
        var rows = flatLabels.ne(ignore).nonzero().squeeze(1);                               // (N)
        var h = hidden.reshape(-1, hidden.shape[^1]).index_select(0, rows);                   // (N, H)
        var logits = model.LmHead(h);                                                        // (N, V)
        if (logits.dtype != ScalarType.Float64) logits = logits.to(ScalarType.Float32);
        var loss = nn.functional.cross_entropy(logits, flatLabels.index_select(0, rows), reduction: nn.Reduction.Sum);
        return loss.MoveToOuterDisposeScope();
    }
}
