using FineTune.Messaging;
using FineTune.Messaging.Jobs;

namespace Trainer.Worker.Tests;

/// <summary>Trainer replicas coordinated through Redis Streams: real Redis, real trainer processes, real (nano) training.</summary>
public sealed class TrainerReplicaTests : IAsyncLifetime
{
    private readonly TrainerTestBed _bed = new();

    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync();

    [Fact]
    public async Task TwoReplicasCompleteFourJobsEachExactlyOnce()
    {
        _bed.StartReplica("replica-a");
        _bed.StartReplica("replica-b");
        var ids = Enumerable.Range(1, 4).Select(i => $"four-{i}").ToList();
        foreach (var id in ids) await _bed.SubmitAsync(id, TrainerTestBed.Spec(maxSteps: 6));

        foreach (var id in ids)
        {
            var job = await _bed.WaitForFinalAsync(id);
            Assert.Equal(JobStatus.Done, job["status"]);
            Assert.Contains(job["replica"], new[] { "replica-a", "replica-b" });
            Assert.Single(await _bed.EventsAsync(id), e => e.Kind == "training");   // started once
            Assert.Equal(Enumerable.Range(1, 6), await _bed.TrainStepsAsync(id));             // every step once, in order
        }
        // acknowledged right after the record says done (the ack follows the durable adapter)
        await Eventually.UntilAsync(async () => (await _bed.Db.StreamPendingAsync(StreamNames.TrainJobs, StreamNames.TrainGroup)).PendingMessageCount == 0,
            TimeSpan.FromSeconds(10), "all four jobs acknowledged", describe: _bed.ReplicasSaid);
    }

    [Fact]
    public async Task KilledReplicasJobResumesElsewhereToTheBitIdenticalAdapter()
    {
        var first = _bed.StartReplica("replica-a");
        await _bed.SubmitAsync("uninterrupted", TrainerTestBed.Spec(maxSteps: 300));
        await _bed.WaitForFinalAsync("uninterrupted");
        var expected = _bed.AdapterBytes("uninterrupted");

        await _bed.SubmitAsync("killed", TrainerTestBed.Spec(maxSteps: 300));   // still training when the kill lands
        await _bed.WaitForEventAsync("killed", "checkpoint", TimeSpan.FromMinutes(2));
        first.KillHard();
        Assert.NotEqual(JobStatus.Done, await _bed.StatusAsync("killed"));

        _bed.StartReplica("replica-b");
        var job = await _bed.WaitForFinalAsync("killed");

        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.Equal("replica-b", job["replica"]);
        Assert.Equal(expected, _bed.AdapterBytes("killed"));
    }

    [Fact]
    public async Task JobThatCheckpointsBetweenKillsSurvivesMoreKillsThanMaxAttempts()
    {
        var replica = _bed.StartReplica("replica-a");   // MaxAttempts is 2 for the test replicas
        await _bed.SubmitAsync("tough", TrainerTestBed.Spec(maxSteps: 600));
        for (var kill = 0; kill < 3; kill++)
        {
            var seen = await CheckpointsAsync("tough");
            await Eventually.UntilAsync(async () => await CheckpointsAsync("tough") > seen, TimeSpan.FromMinutes(2), "a checkpoint of this delivery", describe: _bed.ReplicasSaid);
            replica.KillHard();
            replica = _bed.StartReplica("replica-a");   // restarted: reads its own pending job again (one more delivery)
        }

        var job = await _bed.WaitForFinalAsync("tough", TimeSpan.FromMinutes(10));   // 600 steps after three restarts: slow on a loaded machine

        Assert.True(job["status"] == JobStatus.Done, $"the job ended {job["status"]}: {job.GetValueOrDefault("error")}");
        Assert.Equal(Enumerable.Range(1, 600), (await _bed.TrainStepsAsync("tough")).Distinct().Order());
    }

    private async Task<int> CheckpointsAsync(string jobId) => (await _bed.EventsAsync(jobId)).Count(e => e.Kind == "checkpoint");

    [Fact]
    public async Task SigtermCheckpointsAndHandsTheJobOver()
    {
        var first = _bed.StartReplica("replica-a", lease: TimeSpan.FromMinutes(5));   // a takeover can only come from the release
        await _bed.SubmitAsync("drained", TrainerTestBed.Spec(maxSteps: 1000));   // long enough to still be training when SIGTERM lands
        await _bed.WaitForEventAsync("drained", "checkpoint", TimeSpan.FromMinutes(2));

        await first.TerminateAsync(TimeSpan.FromMinutes(1));
        await _bed.WaitForEventAsync("drained", "handover", TimeSpan.FromSeconds(10));
        _bed.StartReplica("replica-b", lease: TimeSpan.FromMinutes(5));
        var job = await _bed.WaitForFinalAsync("drained");

        Assert.True(job["status"] == JobStatus.Done, $"drained job ended {job["status"]}: {job.GetValueOrDefault("error")}");
        Assert.Equal("replica-b", job["replica"]);
        var steps = await _bed.TrainStepsAsync("drained");
        Assert.Equal(1000, steps[^1]);
        Assert.Equal(Enumerable.Range(1, 1000), steps.Distinct().Order());                  // nothing skipped across the handover
    }

    [Fact]
    public async Task PoisonJobGoesToTheDeadLetterStreamAfterItsAttempts()
    {
        _bed.StartReplica("replica-a", lease: TimeSpan.FromSeconds(1));
        await _bed.SubmitAsync("poison", TrainerTestBed.Spec(maxSteps: 4, model: "models/missing"));

        var job = await _bed.WaitForFinalAsync("poison");

        Assert.Equal(JobStatus.Failed, job["status"]);
        Assert.Contains("models/missing", job["error"]);
        var dead = Assert.Single(await _bed.Db.StreamRangeAsync(StreamNames.DeadLetter));
        Assert.Equal(StreamNames.TrainJobs, (string)dead["stream"]!);
        Assert.Equal(2, (int)dead["attempts"]);
        Assert.Contains("FileNotFound", (string)dead["stack"]!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CancelStopsWithinOneStepAndFreesTheReplica()
    {
        _bed.StartReplica("replica-a");
        await _bed.SubmitAsync("long", TrainerTestBed.Spec(maxSteps: 5000));
        await _bed.WaitForEventAsync("long", "checkpoint", TimeSpan.FromMinutes(2));

        await _bed.Jobs.RequestCancelAsync("long");
        var stepsAtCancel = (await _bed.TrainStepsAsync("long")).Max();
        var job = await _bed.WaitForFinalAsync("long");

        Assert.Equal(JobStatus.Cancelled, job["status"]);
        Assert.True((await _bed.TrainStepsAsync("long")).Max() <= stepsAtCancel + 1, "trained on for more than one step after the cancel");

        await _bed.SubmitAsync("next", TrainerTestBed.Spec(maxSteps: 4));
        Assert.Equal(JobStatus.Done, (await _bed.WaitForFinalAsync("next"))["status"]);
    }

    [Fact]
    public async Task RedisRestartMidJobLosesNoStepRecords()
    {
        _bed.StartReplica("replica-a", lease: TimeSpan.FromMinutes(5));
        await _bed.SubmitAsync("restart", TrainerTestBed.Spec(maxSteps: 600));
        await _bed.WaitForEventAsync("restart", "checkpoint", TimeSpan.FromMinutes(2));

        await _bed.Redis.RestartAsync();   // kill -9 and start again on the same AOF data

        var job = await _bed.WaitForFinalAsync("restart");
        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.Equal(Enumerable.Range(1, 600), (await _bed.TrainStepsAsync("restart")).Distinct().Order());
    }
}
