using FineTune.Training.Model;

namespace FineTune.Training.Evaluation;

/// <summary>
/// Generates an answer for each prompt (greedy, through <paramref name="generate"/>) and scores the share whose JSON equals
/// the expected JSON (<see cref="JsonExactMatch"/>).
/// </summary>
/// <param name="examples">Prompts rendered up to the assistant turn, with the expected answers.</param>
/// <param name="generate">Model, prompts → decoded answers (one per prompt, special tokens skipped).</param>
public sealed class JsonExactMatchMetric(
    IReadOnlyList<GenerationExample> examples,
    Func<ITrainableCausalLM, IReadOnlyList<int[]>, CancellationToken, IReadOnlyList<string>> generate)
    : ITaskMetric
{
    public string Name => "json_exact_match";

    /// <summary>What the model produced for each example in the last run (for reports).</summary>
    public IReadOnlyList<string> LastOutputs { get; private set; } = [];

    public IReadOnlyList<GenerationExample> Examples => examples;

    public double Compute(ITrainableCausalLM model, CancellationToken cancellationToken)
    {
        if (examples.Count == 0) return double.NaN;
        var outputs = generate(model, examples.Select(e => e.PromptIds).ToList(), cancellationToken);
        LastOutputs = outputs;
        var hits = examples.Zip(outputs).Count(p => JsonExactMatch.Matches(p.Second, p.First.Expected));
        return (double)hits / examples.Count;
    }
}
