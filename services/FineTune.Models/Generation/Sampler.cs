using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models.Generation;

/// <summary>
/// Turns next-token logits into token ids: repetition penalty, then greedy or temperature / top-k / top-p sampling.
/// Every Scalar is an owned <c>using</c> local (docs/training.md, "The optimizer's native crash": an implicit Scalar can
/// be finalized while the kernel reading it runs; the chat endpoint samples on thread-pool threads of a busy process).
/// </summary>
public sealed class Sampler(GenerationOptions options, Generator? generator = null)
{
    /// <param name="logits">(B, V) next-token logits.</param>
    /// <param name="seen">Per row, token ids already in the prompt and output (for the repetition penalty).</param>
    /// <returns>(B) int64 token ids.</returns>
    public Tensor Next(Tensor logits, IReadOnlyList<IReadOnlyCollection<int>>? seen = null)
    {
        using var scope = NewDisposeScope();
        var scores = logits.to_type(ScalarType.Float32).clone();                 // (B, V)
        if (options.RepetitionPenalty != 1.0 && seen is not null)
            ApplyRepetitionPenalty(scores, seen, options.RepetitionPenalty);
        if (options.IsGreedy) return scores.argmax(-1).MoveToOuterDisposeScope();

        using var temperature = options.Temperature.ToScalar();
        using var minusInfinity = double.NegativeInfinity.ToScalar();
        scores = scores.div_(temperature);
        var vocab = scores.shape[^1];
        if (options.TopK > 0 && options.TopK < vocab)
        {
            var kth = scores.topk(options.TopK, -1).values.narrow(-1, options.TopK - 1, 1); // (B, 1)
            scores = scores.masked_fill(scores.lt(kth), minusInfinity);
        }
        if (options.TopP < 1.0)
        {
            using var topP = options.TopP.ToScalar();
            var (sorted, order) = scores.sort(-1, descending: true);            // (B, V)
            var probs = sorted.softmax(-1);
            var before = probs.cumsum(-1).sub(probs);                            // mass strictly above each token
            var drop = before.ge(topP);                                          // the first token is never dropped
            var dropInVocabOrder = zeros_like(drop).scatter_(-1, order, drop);
            scores = scores.masked_fill(dropInVocabOrder, minusInfinity);
        }
        return multinomial(scores.softmax(-1), 1, generator: generator).squeeze(-1).MoveToOuterDisposeScope();
    }

    /// <summary>HF's RepetitionPenaltyLogitsProcessor: for each seen token, positive scores ÷ p, negative × p.</summary>
    public static void ApplyRepetitionPenalty(Tensor scores, IReadOnlyList<IReadOnlyCollection<int>> seen, double penalty)
    {
        using var scope = NewDisposeScope();
        using var zero = 0.ToScalar();
        using var factor = penalty.ToScalar();
        for (var b = 0; b < seen.Count; b++)
        {
            if (seen[b].Count == 0) continue;
            var ids = tensor(seen[b].Distinct().Select(i => (long)i).ToArray(), device: scores.device);
            var row = scores[b];
            var s = row.index_select(0, ids);
            row.index_copy_(0, ids, where(s.lt(zero), s.mul(factor), s.div(factor)));
        }
    }
}
