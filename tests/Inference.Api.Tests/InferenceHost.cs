using FineTune.Demo;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenAI;
using System.ClientModel;
using TorchSharp;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Inference.Api.Tests;

/// <summary>
/// A data root as the pipeline leaves it: the tiny Llama under <c>models/tiny-llama</c>, and a job folder
/// <c>jobs/job-e2e/train/adapter</c> trained for a few steps with the product's own code (DemoJob's recipe, TrainingRun),
/// exactly where the trainer writes a job's adapter. Inference.Api runs on it in-process on a real Kestrel socket.
/// </summary>
public sealed class InferenceHost : IAsyncLifetime
{
    public const string JobId = "job-e2e";
    public const string BaseModel = "models/tiny-llama";

    /// <summary>A job that went through export: only its merged folder (artifacts/merged), no adapter.</summary>
    public const string MergedJobId = "job-merged";

    private readonly TempDirectory _root = new("ft-inference");
    private WebApplicationFactory<Program> _factory = null!;

    public string DataRoot => _root.Path;
    public string ModelFolder => _root.File(TinyModel.DataRootFolder);
    public string AdapterFolder => Path.Combine(DataRoot, "jobs", JobId, "train", TrainingRun.AdapterFolder);
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _factory.Services;

    public async Task InitializeAsync()
    {
        torch.set_num_threads(1);
        TinyModel.Write(ModelFolder, seed: 0, TinyModelPreset.Nano);
        await TrainAsync();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("FineTune:DataRoot", DataRoot);
            b.UseSetting("Inference:MaxLoadedModels", "2");
            b.UseSetting("Inference:MaxTokensLimit", "256");
        });
        _factory.UseKestrel(0);
        _factory.StartServer();
        BaseAddress = _factory.ClientOptions.BaseAddress;
    }

    /// <summary>A few optimizer steps at a learning rate high enough that the adapter visibly changes greedy output.</summary>
    private async Task TrainAsync()
    {
        var work = _root.File("work");
        Directory.CreateDirectory(work);
        ProductExtractionTask.WriteJsonl(Path.Combine(work, "train.jsonl"), 16, seed: 1);
        ProductExtractionTask.WriteJsonl(Path.Combine(work, "eval.jsonl"), 2, seed: 2);
        var job = DemoJob.Create(ModelFolder, Path.Combine(work, "train.jsonl"), Path.Combine(work, "eval.jsonl"),
            Path.Combine(DataRoot, "jobs", JobId, "train"), maxSteps: 4);
        job.Training.MicroBatchSize = 2;
        job.Training.GradientAccumulationSteps = 1;
        job.Training.WarmupSteps = 0;
        job.Training.LearningRate = 2e-2;
        job.Training.LoggingSteps = 1;
        job.Training.Deterministic = true;
        job.Eval.MaxNewTokens = 2;
        using var run = await TrainingRun.PrepareAsync(job);
        await foreach (var _ in run.RunAsync()) { }
        if (!File.Exists(Path.Combine(AdapterFolder, "adapter_model.safetensors")))
            throw new InvalidOperationException($"training wrote no adapter under {AdapterFolder}");
        FineTune.Training.Merge.AdapterMerger.Merge(ModelFolder, AdapterFolder, Path.Combine(DataRoot, "jobs", MergedJobId, "artifacts", "merged"));
    }

    public HttpClient CreateHttpClient() => new() { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>The official OpenAI client pointed at this server (the key is required by the client and ignored by the server).</summary>
    public OpenAIClient CreateOpenAiClient() =>
        new(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(BaseAddress, "/v1") });

    public async Task DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        _root.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class InferenceCollection : ICollectionFixture<InferenceHost>
{
    public const string Name = "inference";
}
