using FineTune.Data;
using FineTune.Export;
using System.Text.Json;
using System.Text.Json.Nodes;
using Export.Worker.Extensions;
using Export.Worker.Services;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using FineTune.Models.Tiny;
using FineTune.Training.Merge;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace Export.Worker.Tests;

/// <summary>Export.Worker against a real redis-server: consumes ft:export:requests and records the artifacts on the job.</summary>
public sealed class ExportWorkerTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private readonly TempDirectory _root = new("exportworker");
    private ConnectionMultiplexer _mux = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _mux = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _mux.DisposeAsync();
        await _redis.DisposeAsync();
        _root.Dispose();
    }

    private ExportWorker Worker(JobStore jobs) => new(_mux,
        new StreamWorkerOptions { ConsumerName = "export-test", PollInterval = TimeSpan.FromMilliseconds(20), MaxPollInterval = TimeSpan.FromMilliseconds(100), MaxAttempts = 1 },
        new DataRoot(_root.Path),
        jobs, new OllamaClientHolder(null), new LlamaCppHolder(null), NullLogger<ExportWorker>.Instance);

    private static async Task<IReadOnlyDictionary<string, string>> WaitForFinalAsync(JobStore jobs, string jobId) =>
        (await Eventually.UntilAsync(() => jobs.GetAsync(jobId), job => job is not null && JobStatus.IsFinal(job["status"]),
            TimeSpan.FromMinutes(3), $"job {jobId} finished", TimeSpan.FromMilliseconds(100)))!;

    /// <summary>The product's tiny model (nano, qwen2 layout) under the data root's models folder, as `ft init-tiny` writes it.</summary>
    private string TinyModelFolder(string name, long seed)
    {
        var folder = Path.Combine(_root.Path, "models", name);
        TinyModel.Write(folder, seed, TinyModelPreset.Nano, family: "qwen2");
        return folder;
    }

    [Fact]
    public async Task ExportRequestProducesArtifactsOnTheJobAndARedeliveryIsSkipped()
    {
        var model = TinyModelFolder("tiny", seed: 51);
        var adapter = TinyPeftAdapter.Write(Path.Combine(_root.Path, "jobs", "job1", "artifacts", "adapter"), model);
        // The trainer merges (the export worker has no TorchSharp) into artifacts/merged, where the worker looks by default.
        AdapterMerger.Merge(Path.Combine(_root.Path, "models", "tiny"), adapter, Path.Combine(_root.Path, "jobs", "job1", "artifacts", "merged"));
        var jobs = new JobStore(_mux);
        await jobs.CreateAsync("job1", "{}");
        using var worker = Worker(jobs);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            var request = new ExportRequested { JobId = "job1", Model = "tiny", GgufType = "q8_0", Name = "tiny-shop", NumCtx = 1024 };
            await _mux.GetDatabase().PublishAsync(StreamNames.ExportRequests, request.ToFields());
            var job = await WaitForFinalAsync(jobs, "job1");
            Assert.True(job["status"] == JobStatus.Done, job.GetValueOrDefault("error"));
            Assert.True(job.ContainsKey("exporting_started"));
            var manifest = JsonNode.Parse(job["artifacts"])!["export"].Deserialize<ExportManifest>(ExportManifest.Json)!;
            Assert.Equal("q8_0", manifest.GgufType);
            var artifacts = Path.Combine(_root.Path, "jobs", "job1", "artifacts");
            Assert.Equal(manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256, FileDigest.Sha256Hex(Path.Combine(artifacts, "model-q8_0.gguf")));
            Assert.Contains("PARAMETER num_ctx 1024", File.ReadAllText(Path.Combine(artifacts, "Modelfile")));

            await jobs.SetStatusAsync("job1", JobStatus.Exporting);
            await _mux.GetDatabase().PublishAsync(StreamNames.ExportRequests, request.ToFields());
            Assert.Equal(JobStatus.Done, (await WaitForFinalAsync(jobs, "job1"))["status"]);
            var events = await _mux.GetDatabase().StreamRangeAsync(StreamNames.JobEvents("job1"));
            Assert.Contains(events, e => e["message"] == "artifacts up to date; export skipped");
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task ABadRequestFailsTheJobWithTheReason()
    {
        var jobs = new JobStore(_mux);
        await jobs.CreateAsync("job2", "{}");
        using var worker = Worker(jobs);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await _mux.GetDatabase().PublishAsync(StreamNames.ExportRequests, new ExportRequested { JobId = "job2", Model = "missing-model" }.ToFields());
            var job = await WaitForFinalAsync(jobs, "job2");
            Assert.Equal(JobStatus.Failed, job["status"]);
            Assert.Contains("missing-model", job["error"]);
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task TheTrainersExportRequestIsUnderstoodAndItsArtifactsAreKept()
    {
        var model = TinyModelFolder("tiny", seed: 52);
        var adapter = TinyPeftAdapter.Write(Path.Combine(_root.Path, "jobs", "job3", "run", "adapter"), model);
        var merged = AdapterMerger.Merge(model, adapter, Path.Combine(_root.Path, "jobs", "job3", "run", "merged")).Folder;
        var output = Path.Combine(_root.Path, "jobs", "job3", "artifacts");
        var jobs = new JobStore(_mux);
        await jobs.CreateAsync("job3", "{}");
        await jobs.SetFieldsAsync("job3", ("artifacts", JsonSerializer.Serialize(new { adapter })));
        using var worker = Worker(jobs);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await _mux.GetDatabase().PublishAsync(StreamNames.ExportRequests, new ExportRequested { JobId = "job3", Model = model, Adapter = adapter, Merged = merged }.ToFields());
            var job = await WaitForFinalAsync(jobs, "job3");
            Assert.True(job["status"] == JobStatus.Done, job.GetValueOrDefault("error"));
            var artifacts = JsonNode.Parse(job["artifacts"])!;
            Assert.Equal(adapter, artifacts["adapter"]!.GetValue<string>());
            Assert.Equal("q4_k_m", artifacts["export"]!["ggufType"]!.GetValue<string>());
            Assert.True(File.Exists(Path.Combine(output, "model-q4_k_m.gguf")));
            Assert.True(File.Exists(Path.Combine(output, "adapter.gguf")));
            Assert.True(File.Exists(Path.Combine(output, "merged", "config.json")));
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task AnAdapterThatTheTrainerDidNotMergeFailsTheJobSayingSo()
    {
        var model = TinyModelFolder("tiny4", seed: 53);
        var adapter = TinyPeftAdapter.Write(Path.Combine(_root.Path, "jobs", "job4", "run", "adapter"), model);
        var jobs = new JobStore(_mux);
        await jobs.CreateAsync("job4", "{}");
        using var worker = Worker(jobs);
        await worker.StartAsync(CancellationToken.None);
        try
        {
            await _mux.GetDatabase().PublishAsync(StreamNames.ExportRequests, new ExportRequested { JobId = "job4", Model = model, Adapter = adapter }.ToFields());
            var job = await WaitForFinalAsync(jobs, "job4");
            Assert.Equal(JobStatus.Failed, job["status"]);
            Assert.Contains("artifacts/merged", job["error"]);
            Assert.False(File.Exists(Path.Combine(_root.Path, "jobs", "job4", "artifacts", "model-q4_k_m.gguf")));
        }
        finally
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData("Endpoint=http://ollama:11434", "http://ollama:11434/")]
    [InlineData("http://localhost:11434", "http://localhost:11434/")]
    [InlineData("", null)]
    public void OllamaConnectionStringGivesTheEndpoint(string connection, string? expected)
    {
        Assert.Equal(expected, ApplicationServiceExtensions.OllamaEndpoint(connection)?.ToString());
    }
}
