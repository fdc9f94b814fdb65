using FineTune.Contracts.Jobs;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;

namespace FineTune.Training.Jobs;

/// <summary>The job document's sections (FineTune.Contracts) as the trainer's option records.</summary>
public static class TrainingJobOptions
{
    public static LoraOptions ToOptions(this TrainingJob.LoraSection lora) => new()
    {
        Rank = lora.R, Alpha = lora.Alpha, Dropout = lora.Dropout, TargetModules = lora.TargetModules, UseRsLora = lora.UseRslora,
        ModulesToSave = lora.ModulesToSave,
        Quantization = new BaseQuantization
        {
            Kind = BaseQuantization.ParseKind(lora.Quantization)
                ?? throw new FormatException($"lora.quantization must be none, nf4 or int8 (got {lora.Quantization})"),
            DoubleQuant = lora.DoubleQuant,
            ComputeDType = lora.ComputeDtype is null ? null : BaseQuantization.ParseComputeDType(lora.ComputeDtype)
                ?? throw new FormatException($"lora.compute_dtype must be float32, bfloat16 or float16 (got {lora.ComputeDtype})"),
        },
    };

    public static SftDataOptions ToOptions(this TrainingJob.SftSection sft) =>
        new() { MaxSeqLen = sft.MaxSeqLen, Packing = sft.Packing, TrainOnInputs = sft.TrainOnInputs };

    public static TrainingOptions ToOptions(this TrainingJob.TrainingSection t) => new()
    {
        MicroBatchSize = t.MicroBatchSize, GradientAccumulationSteps = t.GradientAccumulationSteps, Epochs = t.Epochs, MaxSteps = t.MaxSteps,
        LearningRate = t.LearningRate, LrScheduler = TrainingJob.TrainingSection.ParseSchedule(t.LrScheduler), WarmupSteps = t.WarmupSteps,
        WeightDecay = t.WeightDecay, AdamBeta1 = t.AdamBeta1, AdamBeta2 = t.AdamBeta2, AdamEpsilon = t.AdamEpsilon, MaxGradNorm = t.MaxGradNorm,
        Seed = t.Seed, LoggingSteps = t.LoggingSteps, EvalSteps = t.EvalSteps, SaveSteps = t.SaveSteps, SaveTotalLimit = t.SaveTotalLimit,
        SaveFraction = t.SaveFraction, SaveInterval = TimeSpan.FromMinutes(t.SaveMinutes),
        Deterministic = t.Deterministic, Threads = t.Threads, RowThreads = t.RowThreads, GradientCheckpointing = t.GradientCheckpointing,
    };
}
