using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>training's row threads (TrainingOptions.RowThreads): a micro-batch's rows split over threads train the same run.</summary>
public class RowParallelBackwardTests
{
    private const int Vocab = 64;

    [Fact]
    public async Task RowThreadsTrainTheSameRunAsOneBatch()
    {
        var (oneBatch, oneBatchSteps) = await TrainAsync(rowThreads: 1);
        var (rows, rowSteps) = await TrainAsync(rowThreads: 3);

        Assert.Equal(oneBatchSteps.Count, rowSteps.Count);
        foreach (var (a, b) in oneBatchSteps.Zip(rowSteps))
        {
            Assert.Equal(a.Loss, b.Loss, tolerance: 1e-5);
            Assert.Equal(a.GradNorm, b.GradNorm, tolerance: 1e-5);
            Assert.Equal(a.Tokens, b.Tokens);
        }
        Assert.True(oneBatchSteps[0].GradNorm > 0);
        foreach (var (key, expected) in oneBatch)
        {
            var diff = MaxAbsDifference(expected, rows[key]);
            Assert.True(diff < 1e-5, $"{key}: differs by {diff} when the rows run on 3 threads");
        }
    }

    [Fact]
    public async Task RowThreadsGiveBitIdenticalRunsWhicheverThreadFinishesFirst()
    {
        var (first, _) = await TrainAsync(rowThreads: 2);
        var (second, _) = await TrainAsync(rowThreads: 2);
        foreach (var (key, bytes) in first) Assert.True(bytes.SequenceEqual(second[key]), $"{key} differs between two identical runs");
    }

    [Theory]
    [InlineData(0, 2, 0.0, false, false, 1, 2)]   // auto: torch's intra-op threads
    [InlineData(0, 4, 0.0, false, false, 1, 3)]   // never more than the rows of a micro-batch
    [InlineData(2, 1, 0.0, false, false, 1, 2)]   // asked for
    [InlineData(1, 2, 0.0, false, false, 1, 1)]   // off
    [InlineData(2, 2, 0.05, false, false, 1, 1)]  // LoRA dropout draws from torch's one generator
    [InlineData(2, 2, 0.0, true, false, 1, 1)]    // gradient checkpointing saves and restores that generator
    [InlineData(2, 2, 0.0, false, true, 1, 1)]    // deterministic: one thread
    [InlineData(2, 2, 0.0, false, false, 2, 1)]   // a data-parallel member: its process is one core's worth
    public void RowThreadsApplyOnlyWhereTheResultIsTheSame(int rowThreads, int torchThreads, double dropout, bool checkpointing,
        bool deterministic, int worldSize, int expected)
    {
        var options = new TrainingOptions
        {
            MicroBatchSize = 3, RowThreads = rowThreads, GradientCheckpointing = checkpointing, Deterministic = deterministic,
        };
        var before = torch.get_num_threads();
        torch.set_num_threads(torchThreads);
        try
        {
            Assert.Equal(expected, RowParallelBackward.ThreadsFor(options, dropout, CPU, worldSize));
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [Fact]
    public void RowsSplitIntoContiguousShardsThatCoverEveryRowOnce()
    {
        var rows = Enumerable.Range(0, 5).Select(i => SftSequence.FromExample(TestData.Example([3 + i], [4]))).ToList();
        var shards = RowParallelBackward.Split(rows, 3).ToList();
        Assert.Equal([1, 2, 2], shards.Select(s => s.Count));
        Assert.Equal(rows, shards.SelectMany(s => s));
        Assert.Equal(2, RowParallelBackward.Split(rows.Take(2).ToList(), 3).Count());
    }

    /// <summary>
    /// Three steps of a tiny Llama (LoRA on every projection, lm_head trained in full) over packed and padded rows,
    /// 3 rows per micro-batch, 2 micro-batches per step; the adapter's tensors and the step records after them.
    /// </summary>
    private static async Task<(Dictionary<string, byte[]> Adapter, List<StepRecord> Steps)> TrainAsync(int rowThreads)
    {
        var trainable = TinyModels.Llama(seed: 6, layers: 2, vocab: Vocab);
        using var model = trainable.Model;
        torch.manual_seed(11);
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8, ModulesToSave = ["lm_head"] });
        var data = SftDataset.Build(TestData.Random(14, Vocab, seed: 23), new SftDataOptions { MaxSeqLen = 16 });
        var options = new TrainingOptions
        {
            MicroBatchSize = 3, GradientAccumulationSteps = 2, MaxSteps = 3, LearningRate = 1e-2, WarmupSteps = 0, Seed = 4,
            RowThreads = rowThreads,
        };
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU);
        var steps = new List<StepRecord>();
        await foreach (var e in trainer.RunAsync())
            if (e is StepRecord s) steps.Add(s);
        var tensors = adapter.StateDict().ToDictionary(kv => kv.Key, kv => { using var t = kv.Value; return t.bytes.ToArray(); });
        return (tensors, steps);
    }

    private static double MaxAbsDifference(byte[] a, byte[] b)
    {
        var x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a);
        var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(b);
        var max = 0.0;
        for (var i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
        return max;
    }
}
