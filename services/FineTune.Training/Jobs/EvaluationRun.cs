using FineTune.Models;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Training.Evaluation;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using FineTune.Training.Preprocessing;
using FineTune.Training.Sft;
using static TorchSharp.torch;

namespace FineTune.Training.Jobs;

/// <summary>
/// Scores a model (optionally with a PEFT adapter applied) on a data file: loss per label token and perplexity of the
/// assistant turns, and optionally JSON exact match of greedy answers to the last assistant turn.
/// </summary>
public static class EvaluationRun
{
    public sealed record Options(int MaxSeqLen = 2048, bool JsonExactMatch = false, int MaxNewTokens = 128, int MaxExamples = 0, int BatchSize = 4);

    public sealed record Result(int Examples, double Loss, double Perplexity, double? ExactMatch, IReadOnlyList<(string Expected, string Generated)> Samples);

    public static async Task<Result> RunAsync(string modelFolder, string? adapterFolder, string dataFile, Options options, CancellationToken cancellationToken = default)
    {
        var conversations = await ConversationFile.ReadAsync(dataFile, cancellationToken: cancellationToken);
        if (options.MaxExamples > 0) conversations = [.. conversations.Take(options.MaxExamples)];
        var encoder = ConversationEncoder.FromFolder(modelFolder);
        using var model = CausalLM.Load(modelFolder, CPU, ScalarType.Float32);
        var trainable = new CausalLMTrainable(model);
        if (adapterFolder is not null) PeftAdapterFiles.Load(trainable, adapterFolder);
        model.eval();

        var examples = new ExamplePreprocessor(encoder, new PreprocessOptions()).ProcessAll(conversations).Examples;
        var data = SftDataset.Build(examples, new SftDataOptions { MaxSeqLen = options.MaxSeqLen });
        var padId = encoder.Tokenizer.PadId ?? encoder.Tokenizer.EosId ?? 0;
        var (loss, ppl) = HeldOutLoss.Compute(trainable, data, options.BatchSize, padId, CPU);

        double? exact = null;
        var samples = new List<(string, string)>();
        if (options.JsonExactMatch)
        {
            var prompts = conversations.Where(c => c.Count >= 2 && c[^1].Role == "assistant")
                .Select(c => new GenerationExample(encoder.EncodePrompt(c.Take(c.Count - 1).ToList()), c[^1].Content ?? "")).ToList();
            var metric = new JsonExactMatchMetric(prompts, (_, prompts, ct) => TrainingRun.GenerateGreedy(model, encoder, prompts, options.MaxNewTokens, ct));
            exact = metric.Compute(trainable, cancellationToken);
            samples.AddRange(prompts.Zip(metric.LastOutputs).Take(5).Select(p => (p.First.Expected, p.Second)));
        }
        return new Result(conversations.Count, loss, ppl, exact, samples);
    }
}
