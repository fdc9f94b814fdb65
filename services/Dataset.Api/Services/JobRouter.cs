using System.Text.Json.Nodes;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using StackExchange.Redis;

namespace Dataset.Api.Services;

/// <summary>
/// The front door's consumer of <c>ft:preprocess:ready</c> (group <c>jobs</c>): when a job's shards are ready it records
/// them in the job's spec (<c>shards: shards/&lt;hash&gt;</c>), ends the preprocessing stage and queues the job's
/// <see cref="TrainRequest"/> on <c>ft:train:jobs</c>. Spec, marker and request are written in one transaction guarded by the
/// <c>train_requested</c> field, so a redelivered ready message never queues a job twice. Ready messages without a job
/// (plain dataset preprocessing) and jobs that are gone, final or cancelled are acknowledged without a train request.
/// </summary>
public sealed class JobRouter(IConnectionMultiplexer redis, JobStore jobs, ILogger<JobRouter> logger)
    : StreamWorker(redis, new StreamWorkerOptions(), logger)
{
    public const string TrainRequestedField = "train_requested";

    protected override string Stream => StreamNames.PreprocessReady;
    protected override string Group => StreamNames.JobRouterGroup;

    protected override async Task HandleAsync(StreamMessage message, CancellationToken cancellationToken)
    {
        if (message.Get("jobId") is not { Length: > 0 } jobId) return;
        var ready = PreprocessReady.From(message);
        var record = await jobs.GetAsync(jobId);
        if (record is null || JobStatus.IsFinal(record.GetValueOrDefault("status")) || record.ContainsKey(TrainRequestedField))
            return;
        if (record.ContainsKey("cancel_requested"))
        {
            await jobs.SetStatusAsync(jobId, JobStatus.Cancelled);
            return;
        }
        JsonObject? spec = null;
        try { if (record.TryGetValue("spec", out var specText)) spec = JsonNode.Parse(specText) as JsonObject; }
        catch (System.Text.Json.JsonException) { }
        if (spec is null) throw new InvalidMessageException($"job {jobId}: the record's spec is not a JSON object");
        spec["shards"] = $"shards/{ready.Hash}";

        var key = StreamNames.Job(jobId);
        var now = JobStore.Now();
        var request = new TrainRequest(jobId).ToFields().Select(f => new NameValueEntry(f.Key, f.Value)).ToList();
        TraceContext.Inject(request);
        var tx = Database.CreateTransaction();
        tx.AddCondition(Condition.HashNotExists(key, TrainRequestedField));
        tx.AddCondition(Condition.HashNotExists(key, "cancel_requested"));
        _ = tx.HashSetAsync(key, [new("spec", spec.ToJsonString()), new(TrainRequestedField, now)]);
        _ = tx.HashSetAsync(key, $"{JobStatus.Preprocessing}_finished", now, When.NotExists);
        _ = tx.StreamAddAsync(StreamNames.TrainJobs, [.. request], maxLength: StreamPublisher.DefaultMaxLength, useApproximateMaxLength: true);
        if (!await tx.ExecuteAsync())
        {
            // Queued meanwhile by another delivery, or cancelled: look again (a cancel wins over training).
            if (await jobs.IsCancelRequestedAsync(jobId) && !JobStatus.IsFinal(await jobs.GetFieldAsync(jobId, "status")))
                await jobs.SetStatusAsync(jobId, JobStatus.Cancelled);
            return;
        }
        await jobs.AddEventAsync(jobId, "preprocessed", $"shards {ready.Hash[..12]} {(ready.Skipped ? "reused" : "written")}: queued for training");
        Logger.LogInformation("Job {JobId}: shards {Hash} ready; train request queued", jobId, ready.Hash);
    }

    /// <summary>A ready message that cannot be routed (the record's spec is not JSON, repeated failures) fails its job.</summary>
    protected override async Task OnDeadLetteredAsync(StreamMessage message, string error)
    {
        if (message.Get("jobId") is { Length: > 0 } jobId && await jobs.GetFieldAsync(jobId, "status") is { } status && !JobStatus.IsFinal(status))
            await jobs.SetStatusAsync(jobId, JobStatus.Failed, ("error", $"routing to training: {error}"));
    }
}
