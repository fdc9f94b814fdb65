using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using StackExchange.Redis;

namespace Trainer.Worker.Services;

/// <summary>
/// The trainer replica's consumer of <c>ft:train:jobs</c> (group <c>trainers</c>, consumer = this replica's service.instance.id).
/// One job at a time. The lease is the pending entry: the base class renews it while the job runs, and a live replica claims it
/// once it has been idle for the lease time (the holder died). A job is acknowledged only after its adapter and final checkpoint
/// are on the shared volume. On shutdown the job is checkpointed and released at once (its idle time is set past the lease).
/// Every checkpoint resets the job's delivery count: only deliveries that end (failure, kill) without a new checkpoint count
/// toward Trainer:MaxAttempts, so a job that progresses survives any number of killed replicas.
/// </summary>
public sealed class TrainJobWorker(IConnectionMultiplexer redis, StreamWorkerOptions options, JobTrainer trainer, JobStore jobs, ReplicaState replica, ILogger<TrainJobWorker> logger)
    : StreamWorker(redis, options, logger)
{
    protected override string Stream => StreamNames.TrainJobs;
    protected override string Group => StreamNames.TrainGroup;

    /// <summary>No new job while this replica serves in another replica's data-parallel group.</summary>
    protected override bool AcceptsWork => replica.IsFree;

    protected override async Task HandleAsync(StreamMessage message, CancellationToken cancellationToken)
    {
        var request = TrainRequest.From(message);
        await replica.EnterAsync(cancellationToken);   // normally free at once; waits if a membership began since the read
        try
        {
            await trainer.RunAsync(request.JobId, ConsumerName, cancellationToken, () => ResetAttemptsAsync(message));
        }
        catch (JobCancelledException)
        {
            await jobs.SetStatusAsync(request.JobId, JobStatus.Cancelled);
            Logger.LogInformation("Job {JobId} cancelled on {Consumer}", request.JobId, ConsumerName);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await ReleaseAsync(message.Id);
            throw;
        }
        finally
        {
            replica.Exit();
        }
    }

    protected override async Task OnDeadLetteredAsync(StreamMessage message, string error)
    {
        if (message.Get("jobId") is { } jobId)
            await jobs.SetStatusAsync(jobId, JobStatus.Failed, ("error", error));
    }

    /// <summary>Makes the pending entry look idle for longer than any lease, so the next claim round of another replica takes it.</summary>
    private async Task ReleaseAsync(string id)
    {
        var idleMs = (long)(Options.MinIdle.TotalMilliseconds * 10) + 1;
        await Database.ExecuteAsync("XCLAIM", Stream, Group, ConsumerName, 0, id, "IDLE", idleMs, "JUSTID");
    }
}
