using FineTune.Data;
using FineTune.Data.Import;
using FineTune.Contracts.Jobs;
using FineTune.Data.Shards;
using FineTune.Demo;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using FineTune.Training.Preprocessing;

namespace FineTune.Training.Tests;

/// <summary>A job's data from preprocess shards: the same rows as in-process encoding, and a clear refusal of shards made for another model.</summary>
public class ShardSourceTests
{
    /// <summary>Writes shards of <paramref name="files"/> with the preprocess worker's writer (PreprocessedShard, a job's options).</summary>
    private static async Task<string> WriteShardsAsync(string folder, string modelFolder, (string Split, string File)[] files,
        string? tokenizerHash = null, string? templateHash = null)
    {
        Directory.CreateDirectory(folder);
        var preprocessor = new ExamplePreprocessor(ConversationEncoder.FromFolder(modelFolder), new PreprocessOptions { MaxLength = 1 << 20 });
        var infos = new List<ShardFileInfo>();
        foreach (var (split, file) in files)
            infos.Add(await PreprocessedShard.WriteAsync(preprocessor, Records(file), folder, split));
        var manifest = PreprocessedShard.Manifest(new ShardOrigin(new string('a', 64), "0123456789abcdef", new string('b', 64), "model"), preprocessor, infos) with
        {
            TokenizerHash = tokenizerHash ?? preprocessor.Encoder.Tokenizer.ContentHash,
            TemplateHash = templateHash ?? preprocessor.Encoder.Template.ContentHash,
        };
        await PreprocessedShard.WriteManifestAsync(folder, manifest);
        return folder;
    }

    private static async IAsyncEnumerable<Conversation> Records(string file)
    {
        await using var stream = File.OpenRead(file);
        await foreach (var item in new DatasetReader().ReadAsync(stream))
            if (item.Conversation is { } conversation) yield return conversation;
    }

    private static TrainingJob Job(TempDirectory dir, string? shards)
    {
        var job = DemoJob.Create(dir.File("model"), dir.File("train.jsonl"), dir.File("eval.jsonl"), dir.File("out"), maxSteps: 1);
        job.Shards = shards;
        job.Sft.MaxSeqLen = 96; // cuts some records: the trainer, not the shards, truncates and counts
        job.Eval.JsonExactMatch = false;
        return job;
    }

    [Fact]
    public async Task TrainingFromShardsUsesTheSameRowsAsEncodingInProcess()
    {
        using var dir = new TempDirectory("ft-shards");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        ProductExtractionTask.WriteJsonl(dir.File("train.jsonl"), 10, seed: 1);
        ProductExtractionTask.WriteJsonl(dir.File("eval.jsonl"), 3, seed: 2);
        var shards = await WriteShardsAsync(dir.File("shards"), dir.File("model"), [("train", dir.File("train.jsonl"))]);

        using var inProcess = await TrainingRun.PrepareAsync(Job(dir, null));
        using var fromShards = await TrainingRun.PrepareAsync(Job(dir, shards));

        Assert.Null(inProcess.Shards);
        Assert.Equal(shards, fromShards.Shards);
        Assert.Equal(inProcess.Train.Examples, fromShards.Train.Examples);
        Assert.True(inProcess.Train.Truncated > 0, "the test cuts some records");
        Assert.Equal(inProcess.Train.Truncated, fromShards.Train.Truncated);
        Assert.Equal(inProcess.Train.Rows.Count, fromShards.Train.Rows.Count);
        foreach (var (a, b) in inProcess.Train.Rows.Zip(fromShards.Train.Rows))
        {
            Assert.Equal(a.InputIds, b.InputIds);
            Assert.Equal(a.Labels, b.Labels);
        }
        Assert.Equal(inProcess.Eval!.Examples, fromShards.Eval!.Examples);
    }

    [Fact]
    public async Task ShardsOfAnotherTokenizerOrTemplateAreRefusedNamingTheManifest()
    {
        using var dir = new TempDirectory("ft-shards-mismatch");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        ProductExtractionTask.WriteJsonl(dir.File("train.jsonl"), 4, seed: 1);
        ProductExtractionTask.WriteJsonl(dir.File("eval.jsonl"), 2, seed: 2);

        var otherTokenizer = await WriteShardsAsync(dir.File("tok"), dir.File("model"), [("train", dir.File("train.jsonl"))], tokenizerHash: new string('c', 64));
        var error = await Assert.ThrowsAsync<TrainingJobException>(() => TrainingRun.PrepareAsync(Job(dir, otherTokenizer)));
        Assert.Contains(Path.Combine(otherTokenizer, "manifest.json"), error.Message);
        Assert.Contains("tokenizer cccccccccccc", error.Message);

        var otherTemplate = await WriteShardsAsync(dir.File("tpl"), dir.File("model"), [("train", dir.File("train.jsonl"))], templateHash: new string('d', 64));
        error = await Assert.ThrowsAsync<TrainingJobException>(() => TrainingRun.PrepareAsync(Job(dir, otherTemplate)));
        Assert.Contains("chat template dddddddddddd", error.Message);

        var job = Job(dir, await WriteShardsAsync(dir.File("ok"), dir.File("model"), [("train", dir.File("train.jsonl"))]));
        job.Sft.TrainOnInputs = true;
        error = await Assert.ThrowsAsync<TrainingJobException>(() => TrainingRun.PrepareAsync(job));
        Assert.Contains("train_on_inputs", error.Message);
    }
}
