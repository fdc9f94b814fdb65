using System.Net;
using System.Text.Json;
using FineTune.Demo;

namespace Jobs.Tests;

/// <summary>POST /api/jobs/demo: the embedded default job through the front door, with DemoJob's recipe and a small override.</summary>
[Collection(JobsCollection.Name)]
public sealed class DemoJobApiTests(JobsTestBed bed)
{
    [Fact]
    public async Task DemoJobUsesDemoJobsDataAndRecipeRunsThroughEveryStageAndReportsBeforeAfterRows()
    {
        using var created = await bed.Http.PostAsync("/api/jobs/demo", JobsTestBed.Json(new
        {
            preset = "nano",
            training = new { max_steps = 2, micro_batch_size = 2, gradient_accumulation_steps = 1, logging_steps = 1 },
            eval = new { max_examples = 3, max_new_tokens = 8 },
            export = false,
        }));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var job = await bed.WaitForStatusAsync(id, s => s is "done" or "failed", TimeSpan.FromMinutes(3));
        Assert.Equal("done", job.GetProperty("status").GetString());
        var fields = job.GetProperty("fields");
        Assert.Equal("nano", fields.GetProperty("demo").GetString());
        foreach (var stamp in new[] { "preprocessing_started", "preprocessing_finished", "training_started", "training_finished" })
            Assert.True(fields.TryGetProperty(stamp, out _), stamp);

        // DemoJob's recipe, with the request's training overrides on top.
        var recipe = DemoJob.Create("m", "t", "e", "o");
        var spec = fields.GetProperty("spec");
        Assert.Equal("models/nano-llama-products", spec.GetProperty("model").GetString());
        Assert.Equal(recipe.Lora.R, spec.GetProperty("lora").GetProperty("r").GetInt32());
        Assert.Equal(recipe.Training.LearningRate, spec.GetProperty("training").GetProperty("learning_rate").GetDouble(), 12);
        Assert.Equal(recipe.Sft.MaxSeqLen, spec.GetProperty("sft").GetProperty("max_seq_len").GetInt32());
        Assert.Equal(2, spec.GetProperty("training").GetProperty("max_steps").GetInt32());
        Assert.StartsWith("shards/", spec.GetProperty("shards").GetString());

        // The held-out set is DemoJob's own (a second dataset), not a split of the training data.
        var evalData = Path.Combine(bed.DataRoot, spec.GetProperty("eval_data").GetString()!);
        Assert.Equal(DemoJob.EvalExamples, File.ReadLines(evalData).Count());
        Assert.Equal(DemoJob.TrainExamples, File.ReadLines(Path.Combine(bed.DataRoot, spec.GetProperty("data").GetString()!)).Count());

        // The eval field carries the before/after table the dashboard and the console show.
        var eval = fields.GetProperty("eval");
        var rows = eval.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Contains("<", r.GetProperty("prompt").GetString());
            Assert.StartsWith("{", r.GetProperty("expected").GetString());
            Assert.Equal(JsonValueKind.String, r.GetProperty("base").ValueKind);
            Assert.Equal(JsonValueKind.String, r.GetProperty("finetuned").ValueKind);
        });
        var summary = eval.GetProperty("summary");
        Assert.True(summary.TryGetProperty("exact_match_before", out _));
        Assert.True(summary.TryGetProperty("exact_match_after", out _));
        Assert.Equal(3, summary.GetProperty("examples").GetInt32());
    }

    [Fact]
    public async Task DemoJobRejectsUnknownFieldsAndPresets()
    {
        using var response = await bed.Http.PostAsync("/api/jobs/demo", JobsTestBed.Json(new { preset = "huge", colour = "blue" }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await JobsTestBed.ReadJsonAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("preset", out _));
        Assert.True(errors.TryGetProperty("colour", out _));
    }
}
