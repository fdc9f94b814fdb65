using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>A job's random draws (lora_A, then LoRA dropout) come from its own generator, not from torch's global one.</summary>
public class JobRandomnessTests
{
    private static readonly TrainingOptions Options = new()
    {
        MicroBatchSize = 2, GradientAccumulationSteps = 2, MaxSteps = 4, LearningRate = 5e-3, WarmupSteps = 1,
        Seed = 3407, Deterministic = true,
    };

    [Fact]
    public void LoraAIsKaimingUniformAsLibtorchDrawsIt()
    {
        torch.manual_seed(17);
        using var expected = empty(4, 40);
        using (no_grad()) nn.init.kaiming_uniform_(expected, a: Math.Sqrt(5));

        using var random = new Generator(17, CPU);   // the same stream as the global generator seeded with 17
        using var lora = new LoraLinear(nn.Linear(40, 24, hasBias: false), rank: 4, scaling: 2, dropout: 0, random);
        Assert.Equal(expected.data<float>().ToArray(), lora.LoraA.detach().data<float>().ToArray());   // bit for bit
    }

    [Fact]
    public async Task DrawsFromTorchsGlobalGeneratorChangeNothingInAJob()
    {
        var alone = await TrainAsync(generatorSeed: 7, drawElsewhere: false);
        var besideOtherDraws = await TrainAsync(generatorSeed: 7, drawElsewhere: true);
        Assert.Equal(alone.Keys.Order(), besideOtherDraws.Keys.Order());
        foreach (var key in alone.Keys)
            Assert.True(alone[key].SequenceEqual(besideOtherDraws[key]), $"{key} changed when the global generator was drawn from");

        // the job's generator does decide them: another seed gives another lora_A and other dropout masks
        var otherSeed = await TrainAsync(generatorSeed: 8, drawElsewhere: false);
        Assert.Contains(alone.Keys, key => !alone[key].SequenceEqual(otherSeed[key]));
    }

    /// <summary>
    /// Injects LoRA (dropout 0.1) from a generator seeded with <paramref name="generatorSeed"/> and trains four steps;
    /// with <paramref name="drawElsewhere"/>, the global generator is reseeded before the injection and drawn from
    /// between steps, as other work in the process would. Returns the adapter's tensors as bytes.
    /// </summary>
    private static async Task<Dictionary<string, byte[]>> TrainAsync(ulong generatorSeed, bool drawElsewhere)
    {
        var examples = TestData.Random(10, 24, seed: 8);
        using var model = new ToyCausalLM(vocab: 24, hidden: 12, intermediate: 16, seed: 5);
        using var random = new Generator(generatorSeed, CPU);
        if (drawElsewhere) torch.manual_seed(99);
        var adapter = LoraInjector.Inject(model, new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1 }, random);
        var data = SftDataset.Build(examples, new SftDataOptions { MaxSeqLen = 64 });
        var trainer = new SftTrainer(adapter, data, null, Options, padId: 0, CPU, random: random);
        await foreach (var _ in trainer.RunAsync())
        {
            if (!drawElsewhere) continue;
            using var noise = rand(1_000);
        }
        return adapter.StateDict().ToDictionary(kv => kv.Key, kv => { using var t = kv.Value; return t.bytes.ToArray(); });
    }
}
