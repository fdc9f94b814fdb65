using FineTune.Contracts.Optim;
using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>
/// The short SFT run the quantized-base tests train with: 60 steps on 8 random 64-token rows at a high constant learning
/// rate, enough for an adapter that learns to halve its loss.
/// </summary>
internal static class ShortRun
{
    public static async Task<List<StepRecord>> TrainAsync(LoraAdapter adapter)
    {
        var data = SftDataset.Build(TestData.Random(8, 64, seed: 12), new SftDataOptions { MaxSeqLen = 64 });
        var options = new TrainingOptions
        {
            MicroBatchSize = 4, GradientAccumulationSteps = 2, MaxSteps = 60, LearningRate = 1e-2, WarmupSteps = 5,
            LrScheduler = LrScheduleKind.Constant, Seed = 1,
        };
        var steps = new List<StepRecord>();
        await foreach (var e in new SftTrainer(adapter, data, null, options, padId: 0, CPU).RunAsync()) if (e is StepRecord s) steps.Add(s);
        return steps;
    }
}
