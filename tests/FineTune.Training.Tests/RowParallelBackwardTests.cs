using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
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

    /// <summary>Over a full-precision base, and over an NF4 one (its custom autograd function and reused dequantization
    /// buffers then run on several threads at once).</summary>
    [Theory]
    [InlineData(QuantizationKind.None)]
    [InlineData(QuantizationKind.Nf4)]
    public async Task RowThreadsTrainTheSameRunAsOneBatch(QuantizationKind quantization)
    {
        var (oneBatch, oneBatchSteps) = await TrainAsync(rowThreads: 1, quantization: quantization);
        var (rows, rowSteps) = await TrainAsync(rowThreads: 3, quantization: quantization);

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

    /// <summary>With LoRA dropout each shard draws its masks from its own generator, seeded from the job's.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public async Task RowThreadsGiveBitIdenticalRunsWhicheverThreadFinishesFirst(double dropout)
    {
        var (first, firstSteps) = await TrainAsync(rowThreads: 2, dropout: dropout);
        var (second, _) = await TrainAsync(rowThreads: 2, dropout: dropout);
        foreach (var (key, bytes) in first) Assert.True(bytes.SequenceEqual(second[key]), $"{key} differs between two identical runs");
        if (dropout == 0) return;
        var (otherSeed, otherSteps) = await TrainAsync(rowThreads: 2, dropout: dropout, maskSeed: 8);
        Assert.NotEqual(firstSteps[^1].Loss, otherSteps[^1].Loss);   // the masks come from the job's generator (step 1 has B = 0)
        var (oneBatch, oneBatchSteps) = await TrainAsync(rowThreads: 1, dropout: dropout);
        Assert.True(firstSteps[^1].Loss < firstSteps[0].Loss && oneBatchSteps[^1].Loss < oneBatchSteps[0].Loss);
    }

    [Theory]
    [InlineData(0, 2, false, false, 1, 2)]   // auto: torch's intra-op threads
    [InlineData(0, 4, false, false, 1, 3)]   // never more than the rows of a micro-batch
    [InlineData(2, 1, false, false, 1, 2)]   // asked for
    [InlineData(1, 2, false, false, 1, 1)]   // off
    [InlineData(2, 2, true, false, 1, 1)]    // gradient checkpointing replays the global generator, not a shard's
    [InlineData(2, 2, false, true, 1, 1)]    // deterministic: one thread
    [InlineData(2, 2, false, false, 2, 1)]   // a data-parallel member: its process is one core's worth
    public void RowThreadsApplyOnlyWhereTheResultIsTheSame(int rowThreads, int torchThreads, bool checkpointing,
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
            Assert.Equal(expected, RowParallelBackward.ThreadsFor(options, CPU, worldSize));
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
    private static async Task<(Dictionary<string, byte[]> Adapter, List<StepRecord> Steps)> TrainAsync(int rowThreads, double dropout = 0,
        int maskSeed = 7, QuantizationKind quantization = QuantizationKind.None)
    {
        var trainable = TinyModels.Llama(seed: 6, layers: 2, vocab: Vocab);
        using var model = trainable.Model;
        torch.manual_seed(11);
        var adapter = LoraInjector.Inject(trainable, new LoraOptions
        {
            Rank = 4, Alpha = 8, Dropout = dropout, ModulesToSave = ["lm_head"], Quantization = new BaseQuantization { Kind = quantization },
        });
        var data = SftDataset.Build(TestData.Random(14, Vocab, seed: 23), new SftDataOptions { MaxSeqLen = 16 });
        var options = new TrainingOptions
        {
            MicroBatchSize = 3, GradientAccumulationSteps = 2, MaxSteps = 3, LearningRate = 1e-2, WarmupSteps = 0, Seed = 4,
            RowThreads = rowThreads,
        };
        using var masks = new Generator((ulong)maskSeed, CPU);   // the job's generator: dropout's masks come from it
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU, random: masks);
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
