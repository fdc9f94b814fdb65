using FineTune.Training.Model;
using static TorchSharp.torch;

namespace FineTune.Training.Evaluation;

/// <summary>Greedy-generates an answer for each prompt and scores the share whose JSON equals the expected JSON.</summary>
public sealed class JsonExactMatchMetric(
    IReadOnlyList<GenerationExample> examples, Func<int[], string> decode, IReadOnlySet<int> stopIds, int maxNewTokens, Device device)
    : ITaskMetric
{
    public string Name => "json_exact_match";

    /// <summary>What the model produced for each example in the last run (for reports).</summary>
    public IReadOnlyList<string> LastOutputs { get; private set; } = [];

    public double Compute(ITrainableCausalLM model, CancellationToken cancellationToken)
    {
        if (examples.Count == 0) return double.NaN;
        var outputs = new List<string>(examples.Count);
        var hits = 0;
        foreach (var example in examples)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var text = decode(GreedyDecoder.Generate(model, example.PromptIds, stopIds, maxNewTokens, device));
            outputs.Add(text);
            if (JsonExactMatch.Matches(text, example.Expected)) hits++;
        }
        LastOutputs = outputs;
        return (double)hits / examples.Count;
    }
}
