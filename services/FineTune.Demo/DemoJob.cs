using FineTune.Contracts.Jobs;
using FineTune.Contracts.Models;

namespace FineTune.Demo;

/// <summary>
/// The embedded default job: the tiny model learns seed 003's HTML → JSON extraction. <see cref="WriteData"/> writes the
/// train and held-out data, <see cref="Model"/> names the demo's base model and <see cref="Create"/> returns the job (its
/// recipe is documented in docs/benchmarks/training.md). Nothing here needs TorchSharp: whoever has it (the preprocess
/// worker, <c>ft train --demo</c>) writes the model from <see cref="Model"/> and <see cref="TokenizerCorpus"/>.
/// </summary>
public static class DemoJob
{
    public const int TrainExamples = 2000;
    public const int EvalExamples = 100;
    public const int TrainSeed = 3407;
    public const int EvalSeed = 9001;

    /// <summary>Merges learnt for the demo model's tokenizer: enough to make every recurring word of the task one token.</summary>
    public const int TokenizerMerges = 2000;

    /// <summary>Writes the generated train and held-out splits (seed 003's JSONL format) into <paramref name="folder"/>.</summary>
    public static (string Train, string Eval) WriteData(string folder)
    {
        var train = Path.Combine(folder, "train.jsonl");
        var eval = Path.Combine(folder, "eval.jsonl");
        ProductExtractionTask.WriteJsonl(train, TrainExamples, TrainSeed);
        ProductExtractionTask.WriteJsonl(eval, EvalExamples, EvalSeed);
        return (train, eval);
    }

    /// <summary>
    /// The demo's base model: the tiny architecture at <paramref name="preset"/>, randomly initialised from
    /// <paramref name="seed"/>, with a tokenizer whose merges are learnt from <see cref="TokenizerCorpus"/>.
    /// </summary>
    public static GeneratedModel Model(string preset = "tiny", int seed = 0) =>
        new(GeneratedModel.KnownPreset(preset) ?? throw new ArgumentException($"unknown tiny model preset '{preset}' (presets: {string.Join(", ", GeneratedModel.Presets)})"),
            seed, GeneratedModel.ProductsCorpus);

    /// <summary>
    /// The text the demo model's tokenizer learns its merges from: the training split only (never the held-out one), so the
    /// task's words are single tokens, as with a real model's tokenizer trained on text like this.
    /// </summary>
    public static IEnumerable<string> TokenizerCorpus() =>
        ProductExtractionTask.Generate(TrainExamples, TrainSeed).Select(r => r.Html + "\n" + r.Product.ToJson().ToJsonString());

    public static TrainingJob Create(string model, string train, string eval, string output, int? maxSteps = null) => new()
    {
        Model = model,
        Data = train,
        EvalData = eval,
        Output = output,
        Lora = new TrainingJob.LoraSection
        {
            R = 16, Alpha = 32, Dropout = 0, TargetModules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            ModulesToSave = ["embed_tokens", "lm_head"],
        },
        Sft = new TrainingJob.SftSection { MaxSeqLen = 384, Packing = true },
        Training = new TrainingJob.TrainingSection
        {
            MicroBatchSize = 4, GradientAccumulationSteps = 2, MaxSteps = maxSteps ?? 600, LearningRate = 3e-3, LrScheduler = "cosine",
            WarmupSteps = 20, WeightDecay = 0.0, MaxGradNorm = 1.0, Seed = 3407, LoggingSteps = 10, EvalSteps = 0, SaveSteps = 200,
            SaveTotalLimit = 1,
        },
        Eval = new TrainingJob.EvalSection { JsonExactMatch = true, MaxNewTokens = 64 },
    };
}
