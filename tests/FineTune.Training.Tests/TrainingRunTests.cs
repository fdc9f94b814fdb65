using System.Text.Json.Nodes;
using FineTune.Models.Tiny;
using FineTune.Training.Demo;
using FineTune.Training.Evaluation;
using FineTune.Training.Jobs;
using FineTune.Training.Merge;
using FineTune.Training.Training;

namespace FineTune.Training.Tests;

public class TrainingRunTests
{
    [Fact]
    public void DemoTaskRecordsAreSeed003ShapedAndVaried()
    {
        var records = ProductExtractionTask.Generate(200, seed: 1).ToList();
        Assert.All(records, r =>
        {
            Assert.Contains(r.Product.Name, r.Html);
            Assert.Contains(r.Product.Price, r.Html);
            Assert.Contains(r.Product.Category, r.Html);
            Assert.Contains(r.Product.Manufacturer, r.Html);
        });
        Assert.True(records.Select(r => r.Html[..Math.Min(12, r.Html.Length)]).Distinct().Count() >= 6, "layouts vary");
        var heldOut = ProductExtractionTask.Generate(50, seed: 2).Select(r => r.Html).ToHashSet();
        Assert.True(heldOut.Count(h => records.Any(r => r.Html == h)) <= 1, "held-out snippets are new");
    }

    [Fact]
    public void DemoModelTokenizerIsLearntFromTheTrainingSplitSoTaskWordsAreSingleTokens()
    {
        using var dir = new TempDirectory("ft-demo-model");
        DemoJob.WriteModel(dir.File("model"), "nano");
        var tokenizer = FineTune.Models.Core.Tokenizers.HfTokenizer.FromFolder(dir.File("model"));
        var generic = dir.File("generic");
        TinyModel.Write(generic, seed: 0, TinyModelPreset.Nano);
        var genericTokenizer = FineTune.Models.Core.Tokenizers.HfTokenizer.FromFolder(generic);

        // Every value the task draws from is one token after a space, as a domain tokenizer makes it.
        foreach (var word in ProductExtractionTask.Manufacturers.Concat(ProductExtractionTask.Categories))
            Assert.Single(tokenizer.Encode(" " + word, addSpecialTokens: false));
        var record = ProductExtractionTask.Generate(1, DemoJob.EvalSeed).Single();
        var text = record.Html + record.Product.ToJson().ToJsonString();
        int demo = tokenizer.Encode(text, false).Length, builtIn = genericTokenizer.Encode(text, false).Length;
        Assert.True(demo * 3 < builtIn * 2, $"a held-out record takes {demo} tokens with the demo tokenizer, {builtIn} with the built-in one");
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, false), skipSpecialTokens: false));
    }

    [Fact]
    public async Task JobRunsEndToEndAndWritesAdapterMetricsAndSummary()
    {
        using var dir = new TempDirectory("ft-run");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        ProductExtractionTask.WriteJsonl(dir.File("train.jsonl"), 12, seed: 1);
        ProductExtractionTask.WriteJsonl(dir.File("eval.jsonl"), 3, seed: 2);
        var job = DemoJob.Create(dir.File("model"), dir.File("train.jsonl"), dir.File("eval.jsonl"), dir.File("out"), maxSteps: 3);
        job.Training.MicroBatchSize = 2;
        job.Training.GradientAccumulationSteps = 1;
        job.Training.LoggingSteps = 1;
        job.Training.Deterministic = true;
        job.Eval.MaxNewTokens = 4;

        var events = new List<TrainingEvent>();
        using (var run = await TrainingRun.PrepareAsync(job))
        {
            Assert.Equal(12, run.Train.Examples);
            Assert.Equal(3, run.Eval!.Examples);
            await foreach (var e in run.RunAsync()) events.Add(e);
            Assert.NotNull(run.Before);
            Assert.NotNull(run.After);
            Assert.Equal(0, run.Before!.Step);
            Assert.Equal(3, run.After!.Step);
            Assert.True(run.After.Metrics.ContainsKey("json_exact_match"));
        }

        Assert.Equal([0, 3], events.OfType<EvalRecord>().Select(e => e.Step));
        Assert.Equal([1, 2, 3], events.OfType<StepRecord>().Select(e => e.Step));
        Assert.True(File.Exists(dir.File("out/adapter/adapter_config.json")));
        Assert.True(File.Exists(dir.File("out/adapter/adapter_model.safetensors")));
        var lines = File.ReadAllLines(dir.File("out/metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(["eval", "train", "train", "train", "eval", "checkpoint"], lines.Select(l => (string)l["kind"]!));
        Assert.All(lines.Where(l => (string)l["kind"]! == "train"), l =>
        {
            foreach (var field in new[] { "step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second", "eta_seconds" })
                Assert.NotNull(l[field]);
        });
        var summary = JsonNode.Parse(File.ReadAllText(dir.File("out/summary.json")))!;
        Assert.Equal(3, (int)summary["steps"]!);

        // ft eval on the written adapter reproduces the run's final held-out loss
        var after = events.OfType<EvalRecord>().Last();
        var evaluated = await EvaluationRun.RunAsync(dir.File("model"), dir.File("out/adapter"), dir.File("eval.jsonl"),
            new EvaluationRun.Options(MaxSeqLen: job.Sft.MaxSeqLen));
        Assert.Equal(after.EvalLoss, evaluated.Loss, 4);

        // and merging it gives a model with the same held-out loss
        AdapterMerger.Merge(dir.File("model"), dir.File("out/adapter"), dir.File("merged"));
        var merged = await EvaluationRun.RunAsync(dir.File("merged"), null, dir.File("eval.jsonl"), new EvaluationRun.Options(MaxSeqLen: job.Sft.MaxSeqLen));
        Assert.Equal(after.EvalLoss, merged.Loss, 4);
    }

    [Fact]
    public async Task BadDataIsReportedWithFileAndLine()
    {
        using var dir = new TempDirectory("ft-run");
        TinyModel.Write(dir.File("model"), seed: 0, TinyModelPreset.Nano);
        File.WriteAllText(dir.File("train.jsonl"), "{\"input\": \"a\", \"output\": \"b\"}\n{\"input\": \"a\"}\n");
        var job = DemoJob.Create(dir.File("model"), dir.File("train.jsonl"), dir.File("train.jsonl"), dir.File("out"), maxSteps: 1);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => TrainingRun.PrepareAsync(job));
        Assert.Contains("train.jsonl", e.Message);
        Assert.Contains("line 2", e.Message);
    }
}
