using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTune.Demo;
using FineTune.Export;
using FineTune.Export.Tests;
using FineTune.Export.Verification;
using FineTune.Formats.Gguf;
using FineTune.Models;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MainJob.Tests;

/// <summary>
/// The main job as `dotnet run --project AppHost` runs it, with a smaller configuration: the real Aspire AppHost under
/// DistributedApplicationTestingBuilder (real redis-server, the four service processes, trainer ×2), the Ollama HTTP stub as Ollama, the embedded default job submitted by the AppHost
/// itself on the empty store; the job is followed through the public Jobs API only, then every artifact is opened with the
/// libraries users would use.
/// </summary>
[Collection(MainJobCollection.Name)]
public sealed partial class MainJobEndToEndTests(ITestOutputHelper output)
{
    // The smaller configuration: DemoJob's recipe on the tiny preset with global batches of 4 rows (2 micro-batches of 2, one
    // per trainer replica: the job is data parallel over both replicas) and 250 steps, 20 held-out examples generated and
    // scored. It fits the CI budget on 2 loaded cores; exact-match gains need about 1,800 packed rows (450 such steps,
    // docs/benchmarks/training.md) and about 4 minutes of training alone here, so the gain asserted is the field accuracy
    // (below), which a model that has learnt the format and part of the copying shows.
    private const int MaxSteps = 250;
    private const int MicroBatchSize = 2;
    private const int GradientAccumulationSteps = 2;
    private const int Parallelism = 2;
    private const int EvalExamples = 20;
    private static readonly string[] Fields = ["name", "price", "category", "manufacturer"];
    private static readonly TimeSpan Startup = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan JobBound = TimeSpan.FromMinutes(20);

    [GeneratedRegex(@"demo: submitted the default job (?<id>job-[0-9a-f]+)")]
    private static partial Regex Submitted();

    [Fact]
    public async Task DefaultJobGoesThroughEveryStageImprovesOnHeldOutDataAndLeavesValidArtifacts()
    {
        using var state = new TempDirectory("ft-mainjob");
        await using var ollama = await OllamaStub.StartAsync();
        await using var apphost = await RealAppHost.StartAsync(state.Path, Startup,
            "--FineTune:Demo:Preset=tiny", $"--FineTune:Demo:MaxSteps={MaxSteps}", $"--FineTune:Demo:MicroBatchSize={MicroBatchSize}",
            $"--FineTune:Demo:GradientAccumulationSteps={GradientAccumulationSteps}", $"--FineTune:Demo:Parallelism={Parallelism}",
            $"--FineTune:Demo:EvalExamples={EvalExamples}",
            $"--Ollama:Endpoint={ollama.Endpoint}");
        var frontDoor = await apphost.WaitForFrontDoorAsync(Startup);
        var id = (await apphost.WaitForLineAsync(Submitted(), Startup)).Groups["id"].Value;

        using var http = new HttpClient { BaseAddress = frontDoor };
        var job = await WaitForFinalAsync(http, id, apphost);
        Assert.True(job.GetProperty("status").GetString() == "done", $"job {id}: {job}\n{apphost.Describe()}");
        var fields = job.GetProperty("fields");

        // Every stage, in order, through the documented route.
        var stages = new[] { "created", "queued_finished", "preprocessing_started", "preprocessing_finished", "training_started",
            "training_finished", "exporting_started", "exporting_finished", "finished" };
        var times = stages.Select(s => fields.TryGetProperty(s, out var v) ? DateTimeOffset.Parse(v.GetString()!) : throw new Xunit.Sdk.XunitException($"no {s} in {fields}")).ToList();
        Assert.Equal(times.OrderBy(t => t), times);
        Assert.False(string.IsNullOrEmpty(fields.GetProperty("replica").GetString()), "the trainer replica that ran it");
        var members = fields.GetProperty("members").GetString()!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(members.Length == Parallelism, $"both trainer replicas trained the job: members '{fields.GetProperty("members")}'");
        var spec = fields.GetProperty("spec");
        Assert.StartsWith("shards/", spec.GetProperty("shards").GetString());

        // The gain. Asserted metric: field accuracy, the share of (held-out example, field) pairs whose value the model's
        // answer, parsed as JSON, gets exactly right: it rises from the random base (no JSON at all) as soon as the model
        // copies some values, while whole-answer exact match needs all four right and comes later (see the constants).
        // Also: the held-out loss falls, and exact match (the full demo's headline metric) does not fall.
        var eval = fields.GetProperty("eval");
        var summary = eval.GetProperty("summary");
        var rows = eval.GetProperty("rows").EnumerateArray().ToList();
        var before = FieldAccuracy(rows, "base");
        var after = FieldAccuracy(rows, "finetuned");
        output.WriteLine($"field accuracy {before:P1} → {after:P1}; {summary}");
        Assert.True(after > before, $"field accuracy {before:P0} → {after:P0}: no gain\n{eval}");
        Assert.True(summary.GetProperty("eval_loss_after").GetDouble() < summary.GetProperty("eval_loss_before").GetDouble(), $"held-out loss did not fall: {summary}");
        Assert.True(summary.GetProperty("exact_match_after").GetDouble() >= summary.GetProperty("exact_match_before").GetDouble(), $"exact match fell: {summary}");
        Assert.Equal(EvalExamples, eval.GetProperty("rows").GetArrayLength());

        // Artifacts: the PEFT adapter loads onto the base model.
        var dataRoot = Path.Combine(state.Path, "data");
        var baseModel = Path.Combine(dataRoot, spec.GetProperty("model").GetString()!);
        var artifacts = fields.GetProperty("artifacts");
        var adapterFolder = artifacts.GetProperty("adapter").GetString()!;
        var (lora, _) = PeftAdapterFiles.ReadConfig(adapterFolder);
        Assert.Equal(DemoJob.Create("m", "t", "e", "o").Lora.R, lora.Rank);
        using (var model = CausalLM.Load(baseModel))
        {
            var adapter = PeftAdapterFiles.Load(new CausalLMTrainable(model), adapterFolder);
            Assert.True(adapter.CountParameters().Trainable > 0);
        }

        // The export: merged folder loads and runs, the GGUF parses and loads in llama.cpp, the Modelfile points at it,
        // and the model was registered with (the stub of) Ollama.
        var exportFolder = artifacts.GetProperty("export_folder").GetString()!;
        var manifest = JsonSerializer.Deserialize<ExportManifest>(File.ReadAllText(Path.Combine(exportFolder, ExportManifest.FileName)), ExportManifest.Json)!;
        var merged = Path.Combine(exportFolder, manifest.Artifacts.Single(a => a.Kind == "merged").Path);
        using (var model = CausalLM.Load(merged))
        using (var scope = NewDisposeScope())
        {
            var logits = model.forward(tensor(new long[] { 1, 2, 3, 4 }).reshape(1, 4));
            Assert.Equal(4, logits.shape[1]);
            Assert.True(logits.isfinite().all().item<bool>());
        }
        var gguf = Path.Combine(exportFolder, manifest.Artifacts.Single(a => a.Kind == "gguf").Path);
        using (var reader = GgufReader.Open(gguf))
        {
            Assert.Equal("llama", (string)reader.Metadata["general.architecture"].Value);
            Assert.NotEmpty(reader.Tensors);
        }
        var modelfile = File.ReadAllLines(Path.Combine(exportFolder, "Modelfile"));
        var from = modelfile.Single(l => l.StartsWith("FROM ", StringComparison.Ordinal))["FROM ".Length..].Trim();
        Assert.Equal(Path.GetFullPath(gguf), Path.GetFullPath(from, exportFolder));
        var llama = new LlamaCppRunner(Repo.NodeTools);
        if (llama.IsAvailable)
        {
            var run = await llama.RunAsync([new LlamaCppJob(gguf, ["<p>Laptop"], 4)], TimeSpan.FromMinutes(2));
            Assert.True(run.Ok && run.Jobs[0].Ok, run.Error ?? run.Jobs[0].Describe());
        }
        Assert.NotNull(ollama.Model(manifest.ModelName));

        // The console: the before/after table and the accuracy line.
        await apphost.WaitForLineAsync(new Regex(@"demo: exact-match accuracy on \d+ held-out examples: .* before → .* after"), TimeSpan.FromSeconds(30));
        Assert.Contains("fine-tuned answer", apphost.Stdout);
        Assert.Contains(exportFolder, apphost.Stdout);
        output.WriteLine(apphost.Stdout);

        // The AppHost keeps every resource instance's console log: one file per trainer replica, each naming the job.
        var logs = Path.Combine(state.Path, "logs", "latest");
        await Eventually.UntilAsync(() => Directory.Exists(logs)
                && Directory.GetFiles(logs, "trainer-*.log").Count(f => GrowingFile.ReadAll(f).Contains(id, StringComparison.Ordinal)) == Parallelism,
            TimeSpan.FromSeconds(30), $"{Parallelism} trainer console logs naming {id} in {logs}");
    }

    [Fact]
    public async Task NoDemoFlagMeansNoJobIsCreated()
    {
        using var state = new TempDirectory("ft-nodemo");
        await using var apphost = await RealAppHost.StartAsync(state.Path, Startup, "--no-demo");
        var frontDoor = await apphost.WaitForFrontDoorAsync(Startup);
        await apphost.WaitForLineAsync(new Regex("demo: off"), Startup); // the hook ran and decided
        using var http = new HttpClient { BaseAddress = frontDoor };
        var jobs = await http.GetFromJsonAsync<JsonElement>("/api/jobs");
        Assert.Equal(0, jobs.GetArrayLength());
        Assert.False(Directory.Exists(Path.Combine(state.Path, "data", "jobs")));
    }

    /// <summary>Share of (row, field) pairs where the answer in <paramref name="column"/> is a JSON object whose field equals the expected one.</summary>
    private static double FieldAccuracy(IReadOnlyList<JsonElement> rows, string column)
    {
        var right = 0;
        foreach (var row in rows)
        {
            var expected = JsonDocument.Parse(row.GetProperty("expected").GetString()!).RootElement;
            JsonElement answer;
            try { answer = JsonDocument.Parse(row.GetProperty(column).GetString() ?? "").RootElement; }
            catch (JsonException) { continue; }
            if (answer.ValueKind != JsonValueKind.Object) continue;
            right += Fields.Count(f => answer.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.String
                && v.GetString() == expected.GetProperty(f).GetString());
        }
        return (double)right / (rows.Count * Fields.Length);
    }

    private static Task<JsonElement> WaitForFinalAsync(HttpClient http, string id, RealAppHost apphost) =>
        Eventually.UntilAsync(() => http.GetFromJsonAsync<JsonElement>($"/api/jobs/{id}"),
            job => job.GetProperty("status").GetString() is "done" or "failed" or "cancelled", JobBound, $"job {id} final", TimeSpan.FromMilliseconds(500),
            apphost.Describe);
}

/// <summary>One AppHost at a time: each starts redis, four services and two trainers on this machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MainJobCollection
{
    public const string Name = "main job";
}
