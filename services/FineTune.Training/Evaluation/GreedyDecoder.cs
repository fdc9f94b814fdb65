using FineTune.Training.Model;
using static TorchSharp.torch;

namespace FineTune.Training.Evaluation;

/// <summary>
/// Greedy decoding by full re-forward of the growing sequence (no KV cache): simple and exact, meant for evaluating small
/// models on short answers. Stops at any of <paramref name="stopIds"/> (not included) or after maxNewTokens.
/// </summary>
public static class GreedyDecoder
{
    public static int[] Generate(ITrainableCausalLM model, IReadOnlyList<int> prompt, IReadOnlySet<int> stopIds, int maxNewTokens, Device device)
    {
        var wasTraining = model.Module.training;
        model.Module.eval();
        try
        {
            using var _ = no_grad();
            var ids = prompt.Select(i => (long)i).ToList();
            var output = new List<int>();
            for (var n = 0; n < maxNewTokens; n++)
            {
                using var scope = NewDisposeScope();
                var input = tensor(ids.ToArray(), [1, ids.Count], device: device);       // (1, T)
                var hidden = model.ForwardHidden(input, null, null);                      // (1, T, H)
                var last = hidden[0, -1];                                                 // (H)
                var next = (int)model.LmHead(last).argmax().item<long>();
                if (stopIds.Contains(next)) break;
                output.Add(next);
                ids.Add(next);
            }
            return [.. output];
        }
        finally
        {
            model.Module.train(wasTraining);
        }
    }
}
