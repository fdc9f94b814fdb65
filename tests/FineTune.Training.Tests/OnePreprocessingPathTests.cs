using System.Text.Json;
using FineTune.Contracts.Jobs;
using FineTune.Data;
using FineTune.Data.Shards;
using FineTune.Data.Storage;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using FineTune.Training.Preprocessing;
using FineTune.Training.Sft;

namespace FineTune.Training.Tests;

/// <summary>
/// One preprocessing path: the shards the preprocess worker writes (dataset ingested into a data root, its records through
/// <see cref="PreprocessedShard"/> as <c>PreprocessPipeline</c> does) and <c>ft train</c>'s in-process preprocessing give a
/// training run identical batches: token ids, labels, segment ids (attention boundaries) and positions, micro-batch by
/// micro-batch in the seeded order. The data has a system prompt to add, a record with its own system message, multi-turn
/// conversations and a record longer than max_seq_len; rows are packed best-fit.
/// </summary>
public sealed class OnePreprocessingPathTests
{
    private const string SystemPrompt = "You answer in one short sentence.";
    private const int MaxSeqLen = 96;

    private static string Message(string role, string content) =>
        JsonSerializer.Serialize(new { role, content });

    private static string Record(params (string Role, string Content)[] messages) =>
        "{\"messages\":[" + string.Join(",", messages.Select(m => Message(m.Role, m.Content))) + "]}\n";

    private static string TrainData()
    {
        var lines = new List<string>();
        for (var i = 0; i < 10; i++)
            lines.Add(Record(("user", $"What is {i} plus {i}?"), ("assistant", $"It is {2 * i}.")));
        for (var i = 0; i < 4; i++)
            lines.Add(Record(("user", $"Name colour {i}."), ("assistant", $"Colour {i} is blue."), ("user", "And another?"), ("assistant", $"Colour {i + 1} is red.")));
        lines.Add(Record(("system", "You are a poet."), ("user", "Write a line."), ("assistant", "The sea is wide and grey.")));
        lines.Add(Record(("user", "Tell me a long story."), ("assistant", string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 12)))));
        return string.Concat(lines);
    }

    private static TrainingJob Job(TempDirectory dir, string? shards)
    {
        var job = new TrainingJob
        {
            Model = dir.File("model"), Data = dir.File("train.jsonl"), EvalData = dir.File("eval.jsonl"), Shards = shards, Output = dir.File("out"),
        };
        job.Sft.MaxSeqLen = MaxSeqLen;
        job.Sft.Packing = true;
        job.Sft.SystemPrompt = SystemPrompt;
        job.Training.MicroBatchSize = 2;
        job.Training.GradientAccumulationSteps = 2;
        job.Training.Epochs = 2;
        job.Training.Seed = 11;
        job.Eval.JsonExactMatch = false;
        return job;
    }

    /// <summary>What the preprocess worker does for a job's request (PreprocessPipeline.RunAsync, less hashing and renaming).</summary>
    private static async Task<string> WorkerShardsAsync(TempDirectory dir, TrainingJob job, int? maxLength)
    {
        var store = new DatasetStore(new DataRoot(dir.File("data")));
        await using var upload = File.OpenRead(dir.File("train.jsonl"));
        var info = Assert.IsType<IngestResult.Stored>(await store.IngestAsync(upload, new IngestOptions { EvalRatio = 0 })).Info;
        var options = PreprocessOptions.ForJob(job);
        if (maxLength is { } cut) options = options with { MaxLength = cut };
        var preprocessor = new ExamplePreprocessor(ConversationEncoder.FromFolder(dir.File("model")), options);
        var folder = Directory.CreateDirectory(dir.File("shards")).FullName;
        var train = await PreprocessedShard.WriteAsync(preprocessor, store.EnumerateAsync(info.Id, DatasetFiles.Train), folder, ShardManifest.TrainSplit);
        var manifest = PreprocessedShard.Manifest(new ShardOrigin(new string('a', 64), info.Id, info.Hash, "model"), preprocessor, [train]);
        await PreprocessedShard.WriteManifestAsync(folder, manifest);
        return folder;
    }

    private static long[] Values(TorchSharp.torch.Tensor t) => t.data<long>().ToArray();

    [Theory]
    [InlineData(null)]          // the job path: uncut shards, the trainer cuts to max_seq_len
    [InlineData(MaxSeqLen)]     // shards the worker already cut to max_seq_len
    public async Task WorkerShardsAndInProcessPreprocessingGiveIdenticalBatches(int? shardMaxLength)
    {
        using var dir = new TempDirectory("ft-one-path");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        await File.WriteAllTextAsync(dir.File("train.jsonl"), TrainData());
        await File.WriteAllTextAsync(dir.File("eval.jsonl"), Record(("user", "What is 7 plus 7?"), ("assistant", "It is 14.")));
        var shards = await WorkerShardsAsync(dir, Job(dir, null), shardMaxLength);

        using var inProcess = await TrainingRun.PrepareAsync(Job(dir, null));
        using var fromShards = await TrainingRun.PrepareAsync(Job(dir, shards));

        Assert.Equal(shards, fromShards.Shards);
        Assert.Equal((16, 1, 0), (inProcess.Train.Examples, inProcess.Train.Truncated, inProcess.Train.DroppedWithoutLabels));
        Assert.Equal((inProcess.Train.Examples, inProcess.Train.Truncated, inProcess.Train.DroppedWithoutLabels),
            (fromShards.Train.Examples, fromShards.Train.Truncated, fromShards.Train.DroppedWithoutLabels));
        Assert.Contains(inProcess.Train.Rows, r => r.SegmentIds.Contains(2));                 // rows are packed
        Assert.All(inProcess.Train.Rows, r => Assert.InRange(r.Length, 1, MaxSeqLen));
        var text = string.Concat(inProcess.Train.Rows.Select(r => inProcess.Encoder.Tokenizer.Decode(r.InputIds, skipSpecialTokens: false)));
        Assert.Equal(15, text.Split(SystemPrompt).Length - 1);                               // added to every record but the one with its own
        Assert.Contains("You are a poet.", text);

        Assert.Equal(inProcess.TotalSteps, fromShards.TotalSteps);
        for (var i = 0; i < inProcess.TotalSteps * 2; i++)
        {
            using var a = SftBatch.Collate(inProcess.MicroBatch(i), inProcess.PadId);
            using var b = SftBatch.Collate(fromShards.MicroBatch(i), fromShards.PadId);
            Assert.Equal(Values(a.InputIds), Values(b.InputIds));
            Assert.Equal(Values(a.Labels), Values(b.Labels));
            Assert.Equal(Values(a.SegmentIds), Values(b.SegmentIds));
            Assert.Equal(Values(a.PositionIds), Values(b.PositionIds));
        }
        Assert.Equal(inProcess.Eval!.Rows.Select(r => r.InputIds), fromShards.Eval!.Rows.Select(r => r.InputIds));
    }
}
