using FineTune.Data;
using System.Text.Json;
using System.Text.Json.Nodes;
using Export.Worker.Extensions;
using FineTune.Export;
using ExportRequest = FineTune.Export.ExportRequest;
using FineTune.Export.Ollama;
using FineTune.Formats.Gguf;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using StackExchange.Redis;

namespace Export.Worker.Services;

/// <summary>
/// Consumes ft:export:requests (group exporters): runs <see cref="ExportJob"/> into jobs/&lt;jobId&gt;/artifacts, reports each
/// stage as a job event, and records the artifacts (export.json) on the job. Idempotent: a redelivered request whose
/// inputs did not change finds its artifacts and is skipped. It does not merge (no TorchSharp in this service): an
/// adapter comes with its merged model, which the trainer wrote (artifacts/merged, or the message's merged field).
/// </summary>
public sealed class ExportWorker(
    IConnectionMultiplexer redis,
    StreamWorkerOptions options,
    DataRoot dataRoot,
    JobStore jobs,
    OllamaClientHolder ollama,
    LlamaCppHolder llamaCpp,
    ILogger<ExportWorker> logger) : StreamWorker(redis, options, logger)
{
    protected override string Stream => StreamNames.ExportRequests;
    protected override string Group => StreamNames.ExportGroup;

    protected override async Task HandleAsync(StreamMessage message, CancellationToken cancellationToken)
    {
        var request = ExportRequested.From(message);
        var root = dataRoot.Path;
        var model = Path.IsPathRooted(request.Model) ? request.Model : Path.Combine(root, "models", request.Model);
        var artifacts = request.Output ?? Path.Combine(root, "jobs", request.JobId, "artifacts");
        var adapter = request.Adapter ?? (Directory.Exists(Path.Combine(artifacts, "adapter")) ? Path.Combine(artifacts, "adapter") : null);
        if (adapter is not null && Path.GetFullPath(adapter) == Path.GetFullPath(Path.Combine(artifacts, "adapter")))
        {
            // The trainer writes the adapter into artifacts/adapter; export from a stable copy next to it.
            var source = Path.Combine(root, "jobs", request.JobId, "adapter-source");
            if (!Directory.Exists(source)) CopyFolder(adapter, source);
            adapter = source;
        }
        var merged = request.Merged ?? (Directory.Exists(Path.Combine(artifacts, ExportJob.MergedFolder)) ? Path.Combine(artifacts, ExportJob.MergedFolder) : null);

        await jobs.SetStatusAsync(request.JobId, JobStatus.Exporting);
        var job = new ExportJob(Logger, request.Register ? ollama.Registration : null, llamaCpp.Runner)
        {
            Progress = new Progress<string>(stage => _ = jobs.AddEventAsync(request.JobId, "export", stage)),
        };
        try
        {
            var outcome = await job.RunAsync(new ExportRequest
            {
                BaseModel = model,
                Adapter = adapter,
                Merged = merged,
                OutputFolder = artifacts,
                GgufType = GgufFileType.Parse(request.GgufType),
                ModelName = request.Name ?? $"ft-{request.JobId}".ToLowerInvariant(),
                System = request.System,
                Parameters = new OllamaParameters(request.Temperature, request.TopP, request.NumCtx),
                EvaluationPrompts = request.EvalPrompts,
                Verify = request.Verify,
                Register = request.Register,
            }, cancellationToken);
            await jobs.AddEventAsync(request.JobId, "export", outcome.Skipped ? "artifacts up to date; export skipped" : "export finished");
            if (outcome.Manifest.RegistrationNote is { } note) await jobs.AddEventAsync(request.JobId, "ollama", note);
            await jobs.SetStatusAsync(request.JobId, JobStatus.Done, ("artifacts", await ArtifactsJsonAsync(request.JobId, outcome)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await jobs.SetStatusAsync(request.JobId, JobStatus.Failed, ("error", $"export: {e.Message}"));
            throw;
        }
    }

    /// <summary>The job's artifacts field: what training recorded (adapter, metrics…) plus "export" = export.json and its folder.</summary>
    private async Task<string> ArtifactsJsonAsync(string jobId, ExportOutcome outcome)
    {
        var existing = await jobs.GetFieldAsync(jobId, "artifacts");
        var node = existing is { Length: > 0 } && JsonNode.Parse(existing) is JsonObject o ? o : new JsonObject();
        node["export"] = JsonSerializer.SerializeToNode(outcome.Manifest, ExportManifest.Json);
        node["export_folder"] = outcome.Folder;
        return node.ToJsonString();
    }

    private static void CopyFolder(string from, string to)
    {
        var temp = to + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(temp, Path.GetFileName(f)));
        Directory.Move(temp, to);
    }
}
