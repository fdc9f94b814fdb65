using FineTune.Training.Model;
using FineTune.Training.Sft;
using static TorchSharp.torch;

namespace FineTune.Training.Evaluation;

/// <summary>Loss per label token over a held-out set (no gradients, eval mode), and its perplexity.</summary>
public static class HeldOutLoss
{
    public static (double Loss, double Perplexity) Compute(ITrainableCausalLM model, SftDataset data, int batchSize, int padId, Device device)
    {
        var wasTraining = model.Module.training;
        model.Module.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            long tokens = 0;
            for (var start = 0; start < data.Rows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var rows = data.Rows.Skip(start).Take(batchSize).ToList();
                using var batch = SftBatch.Collate(rows, padId, device);
                sum += CausalLmLoss.Sum(model, batch).item<float>();
                tokens += batch.LabelTokens;
            }
            var loss = tokens == 0 ? double.NaN : sum / tokens;
            return (loss, Math.Exp(loss));
        }
        finally
        {
            model.Module.train(wasTraining);
        }
    }
}
