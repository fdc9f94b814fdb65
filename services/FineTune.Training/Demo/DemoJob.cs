using FineTune.Models.Tiny;
using FineTune.Training.Jobs;

namespace FineTune.Training.Demo;

/// <summary>
/// The embedded default job: the tiny model learns seed 003's HTML → JSON extraction. <see cref="Prepare"/> writes the
/// model, the train and held-out data, and returns the job (its recipe is documented in docs/benchmarks/training.md).
/// </summary>
public static class DemoJob
{
    public const int TrainExamples = 2000;
    public const int EvalExamples = 100;
    public const int TrainSeed = 3407;
    public const int EvalSeed = 9001;

    public static TrainingJob Prepare(string folder, string preset = "tiny", int? maxSteps = null, int modelSeed = 0)
    {
        folder = Path.GetFullPath(folder);
        var model = Path.Combine(folder, "model");
        if (!File.Exists(Path.Combine(model, "config.json")))
            TinyModel.Write(model, modelSeed, TinyModelPreset.Named(preset));
        var train = Path.Combine(folder, "data", "train.jsonl");
        var eval = Path.Combine(folder, "data", "eval.jsonl");
        ProductExtractionTask.WriteJsonl(train, TrainExamples, TrainSeed);
        ProductExtractionTask.WriteJsonl(eval, EvalExamples, EvalSeed);
        return Create(model, train, eval, Path.Combine(folder, "run"), maxSteps);
    }

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
