using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using FineTune.Contracts.Jobs;
using FineTune.Messaging;
using FineTune.Messaging.Jobs;
using FineTune.Training.Jobs;
using FineTune.Training.Checkpoints;
using FineTune.Training.Parallel;
using FineTune.Training.Training;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;

namespace Trainer.Worker.Services;

/// <summary>
/// Runs one training job for the worker: reads the spec from the job record, trains with <see cref="TrainingRun"/> (the same
/// code as <c>ft train</c>) into <c>&lt;DataRoot&gt;/jobs/{id}/train</c>, resuming from the newest checkpoint there, publishes every
/// record to the job's metrics stream and to OpenTelemetry, stops within one step on cancel, checkpoints at once on shutdown,
/// then merges the adapter for export (<see cref="ExportMerge"/>) and hands both on. A job with <c>training.parallelism</c> K &gt; 1
/// is trained by a group: this replica coordinates (rank 0), recruits up to K − 1 idle replicas (<see cref="GroupMember"/>),
/// and regroups from the last checkpoint when a member is lost.
/// </summary>
public sealed class JobTrainer(JobStore jobs, GroupStore groups, IConnectionMultiplexer redis, ReplicaState replica, ReplicaHeartbeat heartbeat,
    string dataRoot, TrainerOptions options, ILogger<JobTrainer> logger)
{
    public const string TelemetryName = "FineTune.Training";
    private static readonly ActivitySource Source = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Counter<long> TrainedTokens = Meter.CreateCounter<long>("ft.training.tokens", "{token}", "Tokens trained on");
    private static readonly Counter<long> Steps = Meter.CreateCounter<long>("ft.training.steps", "{step}", "Optimizer steps");
    private static readonly Histogram<double> Loss = Meter.CreateHistogram<double>("ft.training.loss", description: "Training loss per label token, per step");
    private static readonly Histogram<double> Throughput = Meter.CreateHistogram<double>("ft.training.tokens_per_second", "{token}/s", "Training throughput per step");

    // A held-out loss is NaN when a job scores only task metrics; JSON has no NaN, so it is written as the string "NaN".
    private static readonly JsonSerializerOptions EvalJson = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public string DataRoot => dataRoot;

    public string JobFolder(string jobId) => Path.Combine(dataRoot, "jobs", jobId);

    /// <summary>Trains the job to the end. Throws <see cref="JobCancelledException"/> when cancelled; on shutdown, checkpoints and rethrows.</summary>
    /// <param name="progressed">Called after every checkpoint (durable progress): the worker resets the job's delivery count.</param>
    public async Task RunAsync(string jobId, string consumer, CancellationToken stopping, Func<Task>? progressed = null)
    {
        var record = await jobs.GetAsync(jobId) ?? throw new InvalidMessageException($"job {jobId}: no record ft:job:{jobId}");
        if (JobStatus.IsFinal(record.GetValueOrDefault("status")))
        {
            logger.LogInformation("Job {JobId} is already {Status}; nothing to do", jobId, record["status"]);
            return;
        }
        if (record.ContainsKey("cancel_requested")) throw new JobCancelledException(jobId);

        var spec = PrepareSpec(jobId, record);

        using var activity = Source.StartActivity("train job");
        activity?.SetTag("ft.job.id", jobId);
        activity?.SetTag("ft.replica", consumer);
        replica.Running(jobId, spec.Training.Device);
        await BeatAsync();
        try
        {
            await jobs.SetStatusAsync(jobId, JobStatus.Training, ("replica", consumer), ("device", spec.Training.Device));
            if (spec.Training.Parallelism > 1)
            {
                await CoordinateAsync(jobId, consumer, record, spec, progressed, stopping);
                return;
            }
            TrainingRun run;
            using (Source.StartActivity("load model"))
                run = await TrainingRun.PrepareAsync(spec, dataRoot, stopping);
            using (run)
            {
                await jobs.AddEventAsync(jobId, "training", $"{run.Parameters} on {consumer}; {run.Train.Examples} examples, {run.TotalSteps} steps");
                await TrainAsync(jobId, run, progressed, stopping);
                await CompleteAsync(jobId, record, spec, run);
            }
        }
        finally
        {
            replica.Idle();
            await BeatAsync();
        }
    }

    /// <summary>The job's spec with the worker's defaults: output in the job folder, save_steps, threads.</summary>
    public TrainingJob PrepareSpec(string jobId, IReadOnlyDictionary<string, string> record)
    {
        var spec = ReadSpec(jobId, record);
        spec.Output = Path.Combine(JobFolder(jobId), "train");
        if (spec.Training.SaveSteps <= 0) spec.Training.SaveSteps = options.DefaultSaveSteps;
        if (spec.Training.Threads <= 0 && options.Threads > 0) spec.Training.Threads = options.Threads;
        return spec;
    }

    /// <summary>
    /// Rank 0 of a data-parallel job: recruits members, trains with them, and when members are lost starts the next generation
    /// with the others, everyone reloading the last checkpoint. Ends the group on every exit, so members leave.
    /// </summary>
    private async Task CoordinateAsync(string jobId, string consumer, IReadOnlyDictionary<string, string> record, TrainingJob spec,
        Func<Task>? progressed, CancellationToken stopping)
    {
        var requested = spec.Training.Parallelism;
        using var blocking = await BlockingRedis.ConnectAsync(redis);
        var group = await groups.RecruitAsync(jobId, consumer, requested, options.RecruitTimeout, blocking.GetDatabase(), stopping);
        await jobs.AddEventAsync(jobId, "group", group.Size == requested
            ? $"generation {group.Generation}: {string.Join(", ", group.Members)} ({group.Size} of {requested})"
            : $"generation {group.Generation}: {string.Join(", ", group.Members)} — only {group.Size} of {requested} replicas joined within {options.RecruitTimeout.TotalSeconds:0} s; training with them");
        try
        {
            while (true)
            {
                await jobs.SetFieldsAsync(jobId, ("parallelism", requested.ToString(CultureInfo.InvariantCulture)),
                    ("members", string.Join(",", group.Members)), ("generation", group.Generation.ToString(CultureInfo.InvariantCulture)));
                replica.InGroup(jobId, spec.Training.Device, 0, group.Generation);
                await BeatAsync();
                TrainingRun run;
                IGradientSync sync = group.Size == 1 ? LocalGradientSync.Instance
                    : new RedisGradientSync(redis.GetDatabase(), blocking.GetDatabase(), group, 0, IsServingAsync(jobId), options.SyncTimeout);
                using (Source.StartActivity("load model"))
                    run = await TrainingRun.PrepareAsync(spec, dataRoot, stopping, sync);
                using (run)
                {
                    await jobs.AddEventAsync(jobId, "training", $"{run.Parameters} on {string.Join(" + ", group.Members)}; {run.Train.Examples} examples, {run.TotalSteps} steps");
                    int? grewAt;
                    try
                    {
                        grewAt = await TrainAsync(jobId, run, progressed, stopping, step => CanGrowAsync(group, requested, step, run.TotalSteps));
                    }
                    catch (MemberLostException lost)
                    {
                        var lostNames = string.Join(", ", lost.Ranks.Select(r => $"{group.Members[r]} (rank {r})"));
                        group = await groups.RegroupAsync(group, lost.Ranks);
                        var checkpoint = new CheckpointStore(Path.Combine(run.Output, TrainingRun.CheckpointFolder)).Latest();
                        logger.LogWarning("Job {JobId}: {Lost}; generation {Generation} continues with {Members}", jobId, lost.Message, group.Generation, group.Members);
                        await jobs.AddEventAsync(jobId, "fallback",
                            $"{lostNames} stopped answering at step {lost.Step + 1}; generation {group.Generation} resumes from " +
                            $"{(checkpoint is null ? "the start" : Path.GetFileName(checkpoint))} with {string.Join(", ", group.Members)}");
                        continue;
                    }
                    if (grewAt is { } step)
                    {
                        group = await GrowAsync(jobId, group, requested, step, blocking.GetDatabase(), stopping);
                        continue;
                    }
                    await CompleteAsync(jobId, record, spec, run);
                    return;
                }
            }
        }
        finally
        {
            await groups.EndAsync(jobId, group.Generation);
        }
    }

    /// <summary>A group short of members grows at a checkpoint before the last step, and only when a free trainer replica exists.</summary>
    private async Task<bool> CanGrowAsync(DataParallelGroup group, int requested, int step, int totalSteps)
    {
        if (group.Size >= requested || step >= totalSteps) return false;
        try { return (await groups.FreeReplicasAsync(group.Members)).Count > 0; }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { return false; }
    }

    /// <summary>
    /// Recruits the missing members back at the checkpoint of <paramref name="step"/> (docs/streams.md, "Lost members come back"):
    /// the next generation keeps the present members, adds those that joined, and everyone reloads that checkpoint.
    /// </summary>
    private async Task<DataParallelGroup> GrowAsync(string jobId, DataParallelGroup group, int requested, int step, IDatabase blocking, CancellationToken stopping)
    {
        var grown = await groups.GrowAsync(group, requested, options.GrowTimeout, blocking, stopping);
        var back = grown.Members.Except(group.Members).ToList();
        logger.LogInformation("Job {JobId}: generation {Generation} at step {Step}: {Back} joined; members {Members}", jobId, grown.Generation, step, back, grown.Members);
        await jobs.AddEventAsync(jobId, "group", back.Count > 0
            ? $"generation {grown.Generation}: {string.Join(", ", grown.Members)} ({grown.Size} of {requested}); {string.Join(", ", back)} joined again at checkpoint {step}"
            : $"generation {grown.Generation}: {string.Join(", ", grown.Members)} ({grown.Size} of {requested}); no free replica joined within {options.GrowTimeout.TotalSeconds:0} s at checkpoint {step}");
        return grown;
    }

    /// <summary>Whether a replica still serves <paramref name="jobId"/>: its heartbeat exists and names the job.</summary>
    public Func<string, Task<bool>> IsServingAsync(string jobId) => async instance =>
        await redis.GetDatabase().HashGetAsync(StreamNames.Replica(instance), "job") == jobId;

    private async Task BeatAsync()
    {
        try { await heartbeat.BeatAsync(); }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { logger.LogWarning("Heartbeat not written: {Error}", ex.Message); }
    }

    /// <summary>
    /// Trains to the end and returns null, or stops right after a checkpoint for which <paramref name="stopAtCheckpoint"/> says
    /// so and returns that checkpoint's step (the data-parallel coordinator regroups there).
    /// </summary>
    private async Task<int?> TrainAsync(string jobId, TrainingRun run, Func<Task>? progressed, CancellationToken stopping,
        Func<int, Task<bool>>? stopAtCheckpoint = null)
    {
        var db = redis.GetDatabase();
        try
        {
            await foreach (var e in run.RunAsync(resume: true, stopping))
            {
                switch (e)
                {
                    case StepRecord s:
                        TrainedTokens.Add(s.Tokens);
                        Steps.Add(1);
                        Loss.Record(s.Loss);
                        Throughput.Record(s.TokensPerSecond);
                        await db.PublishAsync(StreamNames.JobMetrics(jobId), StepFields(s));
                        if (run.GradientSync is RedisGradientSync sync && s.Step % 10 == 0)
                            logger.LogInformation("Job {JobId} step {Step}: gradient sync send {Send:F1} ms, wait {Wait:F1} ms, reduce {Reduce:F1} ms per step",
                                jobId, s.Step, sync.SendTime.TotalMilliseconds / sync.Steps, sync.WaitTime.TotalMilliseconds / sync.Steps, sync.ReduceTime.TotalMilliseconds / sync.Steps);
                        break;
                    case EvalRecord v:
                        using (var span = Source.StartActivity("evaluate"))
                        {
                            span?.SetTag("ft.step", v.Step);
                            span?.SetTag("ft.eval.loss", v.EvalLoss);
                            await db.PublishAsync(StreamNames.JobMetrics(jobId), EvalFields(v));
                        }
                        break;
                    case CheckpointRecord c:
                        using (var span = Source.StartActivity("checkpoint"))
                        {
                            span?.SetTag("ft.step", c.Step);
                            await jobs.AddEventAsync(jobId, "checkpoint", $"checkpoint at step {c.Step}");
                        }
                        if (progressed is not null) await progressed();
                        if (stopAtCheckpoint is not null && await stopAtCheckpoint(c.Step)) return c.Step;
                        break;
                }
                if (await jobs.IsCancelRequestedAsync(jobId)) throw new JobCancelledException(jobId);
            }
            return null;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shutdown (SIGTERM, Kubernetes drain): checkpoint now so the replica that takes the job over loses nothing.
            using var span = Source.StartActivity("checkpoint");
            var path = run.SaveCheckpoint();
            logger.LogInformation("Job {JobId} checkpointed at {Checkpoint} on shutdown; releasing it", jobId, path);
            await jobs.AddEventAsync(jobId, "handover", $"replica stopping: checkpoint {Path.GetFileName(path)} written, job released");
            throw;
        }
    }

    private async Task CompleteAsync(string jobId, IReadOnlyDictionary<string, string> record, TrainingJob spec, TrainingRun run)
    {
        var adapter = Path.Combine(run.Output, TrainingRun.AdapterFolder);
        var artifacts = JsonSerializer.Serialize(new { adapter, metrics = Path.Combine(run.Output, TrainingRun.MetricsFile), summary = Path.Combine(run.Output, TrainingRun.SummaryFile) });
        var eval = JsonSerializer.Serialize(EvalReport(run), EvalJson);
        await jobs.SetFieldsAsync(jobId, ("artifacts", artifacts), ("eval", eval));
        if (record.TryGetValue("export", out var export) && export is { Length: > 0 } && export != "false")
        {
            await jobs.SetStatusAsync(jobId, JobStatus.Exporting);
            var model = Path.GetFullPath(spec.Model!, dataRoot);
            var fields = ExportFields(jobId, export, model, adapter);
            fields["merged"] = await ExportMerge.RunAsync(jobs, Source, jobId, model, adapter, Path.Combine(JobFolder(jobId), "artifacts"));
            await redis.GetDatabase().PublishAsync(StreamNames.ExportRequests, fields);
        }
        else
        {
            await jobs.SetStatusAsync(jobId, JobStatus.Done);
        }
        logger.LogInformation("Job {JobId} trained: adapter at {Adapter}", jobId, adapter);
    }

    /// <summary>Most rows the eval field's before/after table holds.</summary>
    public const int MaxEvalRows = 200;

    /// <summary>
    /// The job's <c>eval</c> field: metrics and held-out loss before and after (<c>before</c>, <c>after</c>, <c>before_loss</c>,
    /// <c>after_loss</c>), a flat <c>summary</c> (<c>exact_match_before/after</c>, <c>eval_loss_before/after</c>, <c>examples</c>)
    /// and, with the exact-match metric, <c>rows</c>: per held-out example the prompt, the expected answer, the base model's
    /// answer (<c>base</c>, step 0), the fine-tuned answer (<c>finetuned</c>) and whether each matches (JSON exact match).
    /// </summary>
    internal static object EvalReport(TrainingRun run)
    {
        const string metric = "json_exact_match";
        double? Metric(FineTune.Training.Training.EvalRecord? r) => r?.Metrics.TryGetValue(metric, out var v) == true ? v : null;
        var expected = run.ExactMatchExpected;
        var before = run.BeforeGenerations;
        var after = run.LastGenerations;
        var rows = run.ExactMatchPrompts.Take(MaxEvalRows).Select((prompt, i) => new
        {
            prompt,
            expected = i < expected.Count ? expected[i] : null,
            @base = i < before.Count ? before[i] : null,
            finetuned = i < after.Count ? after[i] : null,
            match_before = i < before.Count && i < expected.Count && FineTune.Training.Evaluation.JsonExactMatch.Matches(before[i], expected[i]),
            match = i < after.Count && i < expected.Count && FineTune.Training.Evaluation.JsonExactMatch.Matches(after[i], expected[i]),
        }).ToList();
        var summary = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (Metric(run.Before) is { } b) summary["exact_match_before"] = b;
        if (Metric(run.After) is { } a) summary["exact_match_after"] = a;
        if (run.Before is { } rb) summary["eval_loss_before"] = rb.EvalLoss;
        if (run.After is { } ra) summary["eval_loss_after"] = ra.EvalLoss;
        if (expected.Count > 0) summary["examples"] = expected.Count;
        return new
        {
            before = run.Before?.Metrics, after = run.After?.Metrics, before_loss = run.Before?.EvalLoss, after_loss = run.After?.EvalLoss,
            metric = expected.Count > 0 ? metric : null,
            summary,
            rows,
        };
    }

    /// <summary>
    /// The <c>ft:export:requests</c> message (<see cref="ExportRequested"/>'s fields): the record's <c>export</c> field holds the
    /// export options as a JSON object (ggufType, name, system, temperature, topP, numCtx, evalPrompts, verify, register),
    /// or "true" for the defaults; jobId, model and adapter come from the job (and merged, once <see cref="ExportMerge"/> wrote it).
    /// </summary>
    private static Dictionary<string, string> ExportFields(string jobId, string export, string model, string adapter)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        if (export.TrimStart().StartsWith('{'))
        {
            try
            {
                foreach (var p in JsonDocument.Parse(export).RootElement.EnumerateObject())
                    fields[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString()!,
                        JsonValueKind.Array or JsonValueKind.Object => p.Value.GetRawText(),
                        _ => p.Value.GetRawText().ToLowerInvariant(),
                    };
            }
            catch (JsonException ex)
            {
                throw new InvalidMessageException($"job {jobId}: field 'export' is not a JSON object: {ex.Message}");
            }
        }
        fields["jobId"] = jobId;
        fields["model"] = model;
        fields["adapter"] = adapter;
        return fields;
    }

    private static TrainingJob ReadSpec(string jobId, IReadOnlyDictionary<string, string> record)
    {
        if (!record.TryGetValue("spec", out var text) || text.Length == 0)
            throw new InvalidMessageException($"job {jobId}: the record has no spec");
        try
        {
            return TrainingJobFile.Parse(text, $"{StreamNames.Job(jobId)} spec");
        }
        catch (TrainingJobException ex)
        {
            throw new InvalidMessageException(ex.Message);
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> StepFields(StepRecord s) =>
    [
        new("kind", "train"), new("step", F(s.Step)), new("epoch", F(s.Epoch)), new("loss", F(s.Loss)), new("lr", F(s.LearningRate)),
        new("grad_norm", F(s.GradNorm)), new("tokens_per_s", F(s.TokensPerSecond)), new("eta_s", F(s.EtaSeconds)),
        .. s.SyncSeconds > 0 ? [new KeyValuePair<string, string>("sync_s", F(s.SyncSeconds))] : Array.Empty<KeyValuePair<string, string>>(),
    ];

    private static IEnumerable<KeyValuePair<string, string>> EvalFields(EvalRecord v) =>
    [
        new("kind", "eval"), new("step", F(v.Step)), new("epoch", F(v.Epoch)), new("eval_loss", F(v.EvalLoss)), new("eval_ppl", F(v.EvalPerplexity)),
        .. v.Metrics.Select(m => new KeyValuePair<string, string>(m.Key, F(m.Value))),
    ];

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
