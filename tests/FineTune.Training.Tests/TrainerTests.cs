using FineTune.Training.Checkpoints;
using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;

namespace FineTune.Training.Tests;

public class TrainerTests
{
    private static readonly TrainingOptions Base = new()
    {
        MicroBatchSize = 2, GradientAccumulationSteps = 2, MaxSteps = 6, LearningRate = 5e-3, WarmupSteps = 1,
        WeightDecay = 0.01, Seed = 3407, Deterministic = true,
    };

    [Fact]
    public async Task AccumulatingFourMicroBatchesOfTwoEqualsOneBatchOfEight()
    {
        var examples = TestData.Random(8, 24, seed: 21, maxAnswer: 9);  // label counts differ between examples
        var noDropout = new LoraOptions { Rank = 4, Alpha = 8 };
        var split = Base with { MicroBatchSize = 2, GradientAccumulationSteps = 4, MaxSteps = 1, MaxGradNorm = 0, WarmupSteps = 0 };
        var whole = split with { MicroBatchSize = 8, GradientAccumulationSteps = 1 };

        using var a = new TrainerHarness(examples, split, noDropout);
        using var b = new TrainerHarness(examples, whole, noDropout);
        var ra = (StepRecord)(await a.RunAsync())[0];
        var rb = (StepRecord)(await b.RunAsync())[0];

        Assert.Equal(rb.Loss, ra.Loss, 5);
        Assert.Equal(rb.GradNorm, ra.GradNorm, 5);
        foreach (var (key, pa) in a.Adapter.NamedTrainableParameters)
        {
            var pb = b.Adapter.NamedTrainableParameters.Single(p => p.Key == key).Param;
            Assert.True(pa.grad!.allclose(pb.grad!, rtol: 1e-4, atol: 1e-7), key);   // the step's gradient
        }

        // the naive mean of per-micro-batch means would differ: the data does discriminate
        var perMicro = Enumerable.Range(0, 4).Select(i => a.Data.Rows.Skip(2 * i).Take(2).Sum(r => r.LabelCount)).ToArray();
        Assert.True(perMicro.Distinct().Count() > 1);
    }

    /// <summary>Deterministic mode (one thread), and row threads with LoRA dropout (each shard's masks from its own generator).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ResumeFromCheckpointGivesBitIdenticalAdapter(bool rowThreads)
    {
        var examples = TestData.Random(10, 24, seed: 8);
        var options = rowThreads ? Base with { SaveSteps = 2, Deterministic = false, RowThreads = 2 } : Base with { SaveSteps = 2 };
        using var dir = new TempDirectory("ft-resume");

        Dictionary<string, byte[]> uninterrupted;
        using (var full = new TrainerHarness(examples, options, checkpoints: dir.File("full")))
        {
            var events = await full.RunAsync();
            Assert.Equal(3, events.OfType<CheckpointRecord>().Count());
            uninterrupted = full.AdapterBytes();
        }

        var checkpoints = new CheckpointStore(dir.File("full")).List();
        foreach (var checkpoint in checkpoints.Take(2))
        {
            using var resumed = new TrainerHarness(examples, options, checkpoints: dir.File("resumed-" + Path.GetFileName(checkpoint)));
            resumed.Trainer.ResumeFrom(checkpoint);
            var events = await resumed.RunAsync();
            Assert.Equal(options.MaxSteps - CheckpointStore.ReadState(checkpoint).GlobalStep, events.OfType<StepRecord>().Count());
            var bytes = resumed.AdapterBytes();
            Assert.Equal(uninterrupted.Keys.Order(), bytes.Keys.Order());
            foreach (var key in uninterrupted.Keys) Assert.True(uninterrupted[key].SequenceEqual(bytes[key]), $"{key} differs after resuming from {checkpoint}");
        }
    }

    [Fact]
    public async Task ResumeWithOtherHyperParametersIsRefused()
    {
        var examples = TestData.Random(6, 24, seed: 8);
        using var dir = new TempDirectory("ft-resume");
        using (var full = new TrainerHarness(examples, Base with { MaxSteps = 2 }, checkpoints: dir.Path)) await full.RunAsync();
        using var other = new TrainerHarness(examples, Base with { MaxSteps = 2, LearningRate = 1e-3 });
        var e = Assert.Throws<InvalidOperationException>(() => other.Trainer.ResumeFrom(new CheckpointStore(dir.Path).Latest()!));
        Assert.Contains("other hyper-parameters", e.Message);
    }

    [Fact]
    public async Task CheckpointsAreCompleteAndPrunedToTheLimit()
    {
        var examples = TestData.Random(6, 24, seed: 8);
        using var dir = new TempDirectory("ft-ckpt");
        using var run = new TrainerHarness(examples, Base with { SaveSteps = 1, SaveTotalLimit = 2 }, checkpoints: dir.Path);
        await run.RunAsync();
        var list = new CheckpointStore(dir.Path).List();
        Assert.Equal(["checkpoint-000005", "checkpoint-000006"], list.Select(Path.GetFileName));
        foreach (var c in list)
            foreach (var f in new[] { "adapter_config.json", "adapter_model.safetensors", "optimizer.bin", "trainer_state.json" })
                Assert.True(File.Exists(Path.Combine(c, f)), $"{c}/{f}");
        Assert.Empty(Directory.GetDirectories(dir.Path, ".tmp-*"));
        Assert.Equal(6, CheckpointStore.ReadState(list[^1]).Steps.Count);
    }

    [Fact]
    public async Task StepRecordsReportScheduleNormAndThroughput()
    {
        var examples = TestData.Random(8, 24, seed: 3);
        using var run = new TrainerHarness(examples, Base with { MaxSteps = 4, WarmupSteps = 2 });
        var steps = (await run.RunAsync()).OfType<StepRecord>().ToList();
        Assert.Equal([1, 2, 3, 4], steps.Select(s => s.Step));
        Assert.Equal(0, steps[0].LearningRate);
        Assert.Equal(Base.LearningRate / 2, steps[1].LearningRate, 12);
        Assert.All(steps, s => { Assert.True(s.GradNorm > 0); Assert.True(s.TokensPerSecond > 0); Assert.True(double.IsFinite(s.Loss)); });
        Assert.Equal(0, steps[^1].EtaSeconds);
        Assert.Equal(2.0, steps[^1].Epoch, 6);  // 4 steps × 2 micro-batches, 4 micro-batches of 2 rows per epoch
    }
}
