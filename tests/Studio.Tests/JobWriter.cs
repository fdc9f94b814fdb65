using System.Globalization;
using System.Text.Json;
using FineTune.Messaging;
using FineTune.Messaging.Jobs;
using StackExchange.Redis;

namespace Studio.Tests;

/// <summary>
/// Plays the workers' part of a job: the record, status changes and events through the shared <see cref="JobStore"/>, and
/// train/eval records on <c>ft:job:{id}:metrics</c> with the fields the trainer writes. The Studio sees them only through
/// the front door.
/// </summary>
public sealed class JobWriter(IConnectionMultiplexer redis, string dataRoot, string id)
{
    private readonly JobStore _jobs = new(redis);

    public string Id { get; } = id;
    public int Steps { get; private set; }

    public async Task StartTrainingAsync()
    {
        await _jobs.CreateAsync(Id, JsonSerializer.Serialize(new { model = "models/tiny-llama", lora = new { r = 8, alpha = 16 }, training = new { max_steps = 60 } }),
            [new("dataset", "ds-products"), new("model", "tiny")]);
        await _jobs.SetStatusAsync(Id, JobStatus.Preprocessing);
        await _jobs.SetStatusAsync(Id, JobStatus.Training, ("replica", "trainer-aaaa1111"), ("device", "cpu"));
        await _jobs.AddEventAsync(Id, "training", "claimed by trainer-aaaa1111");
    }

    /// <summary><paramref name="count"/> train records (loss falling), an eval record every 10 steps.</summary>
    public async Task AppendStepsAsync(int count)
    {
        var db = redis.GetDatabase();
        for (var i = 0; i < count; i++)
        {
            var step = ++Steps;
            var loss = 2.8 * Math.Exp(-step / 25.0) + 0.35 + 0.04 * Math.Sin(step);
            await db.StreamAddAsync(StreamNames.JobMetrics(Id),
            [
                new("kind", "train"), new("step", step), new("epoch", F(step / 40.0)), new("loss", F(loss)), new("lr", F(2e-4)),
                new("grad_norm", F(1.1 - step / 200.0)), new("tokens_per_s", F(1800 + 40 * Math.Cos(step))), new("eta_s", 60 - step),
            ]);
            if (step % 10 == 0)
                await db.StreamAddAsync(StreamNames.JobMetrics(Id), [new("kind", "eval"), new("step", step), new("eval_loss", F(loss + 0.15)), new("eval_ppl", F(Math.Exp(loss + 0.15)))]);
        }
    }

    /// <summary>Trained data-parallel by two replicas, exported, with the trainer's eval field (summary and rows) and files on disk.</summary>
    public async Task FinishAsync()
    {
        var artifacts = Path.Combine(dataRoot, "jobs", Id, "artifacts");
        Directory.CreateDirectory(Path.Combine(artifacts, "adapter"));
        await File.WriteAllTextAsync(Path.Combine(artifacts, "Modelfile"), "FROM ./model-q4_k_m.gguf\n");
        await File.WriteAllBytesAsync(Path.Combine(artifacts, "adapter", "adapter_model.safetensors"), new byte[4096]);
        await _jobs.SetFieldsAsync(Id, ("parallelism", "2"), ("members", "trainer-aaaa1111,trainer-bbbb2222"), ("generation", "1"),
            ("eval", JsonSerializer.Serialize(new
            {
                before = new { json_exact_match = 0.1 }, after = new { json_exact_match = 0.8 }, before_loss = 2.9, after_loss = 0.4,
                metric = "json_exact_match",
                summary = new { exact_match_before = 0.1, exact_match_after = 0.8, eval_loss_before = 2.9, eval_loss_after = 0.4, examples = 2 },
                rows = new object[]
                {
                    new { prompt = "合同编号：HT-2024-001，甲方：华东制造。提取合同编号。", expected = "HT-2024-001", @base = "这是一份合同。", finetuned = "HT-2024-001", match_before = false, match = true },
                    new { prompt = "<li>Aurora Kettle — $39.90</li> Extract the price.", expected = "{\"price\":\"$39.90\"}", @base = "Aurora is a kettle.", finetuned = "{\"price\":\"$39.90\"}", match_before = false, match = true },
                },
            })));
        await _jobs.SetStatusAsync(Id, JobStatus.Exporting);
        await _jobs.AddEventAsync(Id, "export", "export finished");
        await _jobs.SetStatusAsync(Id, JobStatus.Done);
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
