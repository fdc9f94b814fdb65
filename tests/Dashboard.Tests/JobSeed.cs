using System.Globalization;
using System.Text.Json;
using StackExchange.Redis;

namespace FineTune.Dashboard.Tests;

/// <summary>Writes a job into Redis exactly as the services do (shared contract: ft:jobs, ft:job:{id}, its metrics and events streams).</summary>
public sealed class JobSeed(IDatabase db, string id)
{
    public string Id { get; } = id;
    public int Steps { get; private set; }

    public static readonly DateTimeOffset Created = new(2026, 11, 22, 9, 0, 0, TimeSpan.Zero);

    public async Task CreateAsync(string status = "training")
    {
        await db.SortedSetAddAsync("ft:jobs", Id, Created.ToUnixTimeMilliseconds());
        await db.HashSetAsync($"ft:job:{Id}",
        [
            new("id", Id), new("status", status), new("created", Iso(Created)),
            new("preprocessing_started", Iso(Created.AddSeconds(2))), new("preprocessing_finished", Iso(Created.AddSeconds(9))),
            new("training_started", Iso(Created.AddSeconds(10))),
            new("replica", "trainer-aaaa1111"), new("device", "cpu"),
            new("spec", JsonSerializer.Serialize(new { base_model = "models/tiny-llama", dataset = "seed-003", lora = new { r = 8, alpha = 16 }, epochs = 2 })),
        ]);
        await db.StreamAddAsync($"ft:job:{Id}:events", [new("kind", "preprocessing"), new("message", "1,024 rows → 3 shards"), new("ts", Iso(Created.AddSeconds(9)))]);
        await db.StreamAddAsync($"ft:job:{Id}:events", [new("kind", "training"), new("message", "claimed by trainer-aaaa1111"), new("ts", Iso(Created.AddSeconds(10)))]);
    }

    /// <summary>Appends <paramref name="count"/> train records (loss falling), with an eval record every 10 steps.</summary>
    public async Task AppendStepsAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var step = ++Steps;
            var loss = 2.8 * Math.Exp(-step / 25.0) + 0.35 + 0.04 * Math.Sin(step);
            await db.StreamAddAsync($"ft:job:{Id}:metrics",
            [
                new("kind", "train"), new("step", step), new("epoch", F(step / 40.0)), new("loss", F(loss)), new("lr", F(2e-4)),
                new("grad_norm", F(1.1 - step / 200.0)), new("tokens_per_s", F(1800 + 40 * Math.Cos(step))), new("eta_s", 80 - step),
                new("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
            ], maxLength: 10_000, useApproximateMaxLength: true);
            if (step % 10 == 0)
                await db.StreamAddAsync($"ft:job:{Id}:metrics",
                    [new("kind", "eval"), new("step", step), new("eval_loss", F(loss + 0.15)), new("eval_ppl", F(Math.Exp(loss + 0.15)))]);
        }
    }

    public async Task FinishAsync()
    {
        await db.HashSetAsync($"ft:job:{Id}",
        [
            new("status", "done"), new("training_finished", Iso(Created.AddSeconds(70))),
            // Trained data-parallel: the coordinator and one member (the fields JobTrainer writes).
            new("parallelism", "2"), new("members", "trainer-aaaa1111,trainer-bbbb2222"), new("generation", "1"),
            new("exporting_started", Iso(Created.AddSeconds(71))), new("exporting_finished", Iso(Created.AddSeconds(80))),
            new("artifacts", JsonSerializer.Serialize(new object[]
            {
                new { name = "adapter", path = $"jobs/{Id}/artifacts/adapter/adapter_model.safetensors", size = 1_572_864 },
                new { name = "gguf", path = $"jobs/{Id}/artifacts/model-f16.gguf", size = 9_437_184 },
                new { name = "Modelfile", path = $"jobs/{Id}/artifacts/Modelfile", size = 412 },
            })),
            new("eval", JsonSerializer.Serialize(new
            {
                summary = new { metric = "exact_match", before = 0.1, after = 0.8 },
                rows = new object[]
                {
                    new { prompt = "合同编号：HT-2024-001，甲方：华东制造。提取合同编号。", @base = "这是一份合同。", finetuned = "HT-2024-001", expected = "HT-2024-001", before = 0, after = 1 },
                    new { prompt = "Invoice 7781 from Acme, due 2024-05-01. Extract the due date.", @base = "Acme is a company.", finetuned = "2024-05-01", expected = "2024-05-01", before = 0, after = 1 },
                },
            })),
        ]);
    }

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
