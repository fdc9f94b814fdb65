using System.Diagnostics;
using System.Text.Json;
using FineTune.Data.Shards;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Preprocess.Worker.Services;

/// <summary>
/// Consumes <c>ft:preprocess:requests</c> (group <c>preprocessors</c>), writes a generated model the request names
/// (<see cref="GeneratedModelWriter"/>) when it is not there yet, runs the <see cref="PreprocessPipeline"/> and publishes the manifest to <c>ft:preprocess:ready</c> (and, for a job, a line on its events stream).
/// </summary>
public sealed class PreprocessWorker(IConnectionMultiplexer redis, PreprocessPipeline pipeline, GeneratedModelWriter models,
    IOptions<PreprocessWorkerOptions> options, ILogger<PreprocessWorker> logger)
    : StreamWorker(redis, options.Value.Consumer, logger)
{
    private readonly JobStore _jobs = new(redis);

    protected override string Stream => StreamNames.PreprocessRequests;
    protected override string Group => StreamNames.PreprocessGroup;

    protected override async Task HandleAsync(StreamMessage message, CancellationToken cancellationToken)
    {
        var request = PreprocessRequest.From(message);
        Activity.Current?.SetTag("job.id", request.JobId);
        if (request.GenerateModel is { } generate)
            using (PreprocessPipelineActivity("preprocess generate model"))
                await models.EnsureAsync(request.Model, generate, cancellationToken);
        var outcome = await pipeline.RunAsync(request, cancellationToken);

        var db = Database;
        var manifest = JsonSerializer.Serialize(outcome.Manifest, ShardManifest.Json);
        var ready = new PreprocessReady(request.JobId, request.DatasetId, message.Id, outcome.Hash, outcome.Folder, outcome.Skipped, manifest);
        using (PreprocessPipelineActivity("preprocess publish"))
        {
            await db.PublishAsync(StreamNames.PreprocessReady, ready.ToFields());
            if (request.JobId is { } jobId)
            {
                var train = outcome.Manifest.Split(ShardManifest.TrainSplit) ?? outcome.Manifest.Files.FirstOrDefault();
                await _jobs.AddEventAsync(jobId, "preprocess", outcome.Skipped
                    ? $"shards {outcome.Hash[..12]} already existed: preprocessing skipped"
                    : $"shards {outcome.Hash[..12]} written: {train?.Records} {train?.Split} records, {train?.Tokens} tokens ({train?.Truncated} truncated, {train?.Dropped} dropped)");
            }
        }
    }

    /// <summary>A request that cannot be done (unknown dataset or model, bad options, repeated failures) fails its job.</summary>
    protected override async Task OnDeadLetteredAsync(StreamMessage message, string error)
    {
        if (message.Get("jobId") is { Length: > 0 } jobId && await Database.KeyExistsAsync(StreamNames.Job(jobId)))
            await _jobs.SetStatusAsync(jobId, JobStatus.Failed, ("error", $"preprocessing: {error}"));
    }

    private static readonly ActivitySource Source = new(PreprocessPipeline.TelemetryName);
    private static Activity? PreprocessPipelineActivity(string name) => Source.StartActivity(name);
}
