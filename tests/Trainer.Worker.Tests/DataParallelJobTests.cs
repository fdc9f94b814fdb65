using FineTune.Messaging;
using FineTune.Messaging.Jobs;

namespace Trainer.Worker.Tests;

/// <summary>Data-parallel jobs (training.parallelism) on real trainer processes over real Redis.</summary>
[Collection(DataParallelCollection.Name)]
public sealed class DataParallelJobTests : IAsyncLifetime
{
    private readonly TrainerTestBed _bed = new();

    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync();

    [Fact]
    public async Task K2JobOnTwoReplicasCompletesAndTheRecordShowsBothMembers()
    {
        _bed.StartReplica("replica-a");
        _bed.StartReplica("replica-b");
        await _bed.WaitUntilRunningAsync("replica-a", "replica-b");
        await _bed.SubmitAsync("pair", TrainerTestBed.Spec(maxSteps: 20, accumulation: 2, parallelism: 2));

        var job = await _bed.WaitForFinalAsync("pair");

        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.Equal("2", job["parallelism"]);
        var members = job["members"].Split(',');
        Assert.Equal(["replica-a", "replica-b"], members.Order());
        Assert.Equal(job["replica"], members[0]);                                     // the replica that took the job coordinates
        Assert.Contains(await _bed.EventsAsync("pair"), e => e.Kind == "group" && e.Message.Contains("(2 of 2)"));
        Assert.Equal(Enumerable.Range(1, 20), await _bed.TrainStepsAsync("pair"));
        var sync = (await _bed.Db.StreamRangeAsync(StreamNames.JobMetrics("pair"))).Where(e => e["kind"] == "train").Select(e => (double)e["sync_s"]);
        Assert.All(sync, s => Assert.True(s > 0));                                    // every step went through the exchange
    }

    [Fact]
    public async Task MemberKilledMidJobGroupFallsBackToCheckpointAndCompletes()
    {
        var replicas = new[] { _bed.StartReplica("replica-a"), _bed.StartReplica("replica-b") };
        await _bed.WaitUntilRunningAsync("replica-a", "replica-b");
        await _bed.SubmitAsync("fallback", TrainerTestBed.Spec(maxSteps: 200, accumulation: 2, parallelism: 2));
        await _bed.WaitForEventAsync("fallback", "checkpoint", TimeSpan.FromMinutes(2));
        var coordinator = (await _bed.Jobs.GetAsync("fallback"))!["replica"];
        var member = replicas.Single(r => r.InstanceId != coordinator);

        member.KillHard();
        var job = await _bed.WaitForFinalAsync("fallback");

        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.Equal(coordinator, job["members"]);                                    // continued with the members left
        Assert.Equal("2", job["generation"]);
        var fallback = Assert.Single(await _bed.EventsAsync("fallback"), e => e.Kind == "fallback");
        Assert.Contains($"{member.InstanceId} (rank 1) stopped answering", fallback.Message);
        Assert.Contains("resumes from checkpoint-", fallback.Message);
        Assert.Equal(Enumerable.Range(1, 200), (await _bed.TrainStepsAsync("fallback")).Distinct().Order());
    }

    [Fact]
    public async Task MemberKilledAndRestartedIsRecruitedAgainAndTheAdapterEqualsAnUninterruptedRun()
    {
        var replicas = new[] { _bed.StartReplica("replica-a"), _bed.StartReplica("replica-b") };
        await _bed.WaitUntilRunningAsync("replica-a", "replica-b");
        var spec = TrainerTestBed.Spec(maxSteps: RejoinSteps, accumulation: 2, parallelism: 2);
        await _bed.SubmitAsync("whole", spec);
        var whole = await _bed.WaitForFinalAsync("whole", TimeSpan.FromMinutes(10));   // bounds only: slow on a loaded machine
        Assert.Equal(JobStatus.Done, whole["status"]);
        Assert.Equal(("1", 2), (whole["generation"], whole["members"].Split(',').Length));   // uninterrupted: one generation of two
        var expected = _bed.AdapterBytes("whole");

        await _bed.SubmitAsync("rejoined", spec);
        await _bed.WaitForEventAsync("rejoined", "checkpoint", TimeSpan.FromMinutes(2));
        var coordinator = (await _bed.Jobs.GetAsync("rejoined"))!["replica"];
        var member = replicas.Single(r => r.InstanceId != coordinator);
        member.KillHard();
        _bed.StartReplica(member.InstanceId);   // restarted as the AppHost restarts a crashed replica: same instance id
        var job = await _bed.WaitForFinalAsync("rejoined", TimeSpan.FromMinutes(10));

        Assert.Equal(JobStatus.Done, job["status"]);
        var events = await _bed.EventsAsync("rejoined");
        Assert.Contains(events, e => e.Kind == "fallback" && e.Message.Contains($"{member.InstanceId} (rank 1) stopped answering"));
        Assert.Contains(events, e => e.Kind == "group" && e.Message.Contains($"{member.InstanceId} joined again at checkpoint"));
        Assert.Equal([coordinator, member.InstanceId], job["members"].Split(','));   // K = 2 again at the end
        Assert.True(long.Parse(job["generation"]) >= 3, $"generation {job["generation"]}: expected 1 (two), 2 (alone), 3 (two again)");
        Assert.Equal(Enumerable.Range(1, RejoinSteps), (await _bed.TrainStepsAsync("rejoined")).Distinct().Order());
        Assert.Equal(expected, _bed.AdapterBytes("rejoined"));   // dropout 0, A = K = 2: the same run to the bit
    }

    /// <summary>Long enough that the coordinator, alone after the kill, is still training when the restarted replica is up.</summary>
    private const int RejoinSteps = 400;

    [Fact]
    public async Task CoordinatorKilledMidJobTheMemberLeavesAndTheJobResumesUnderANewCoordinator()
    {
        var patient = new Dictionary<string, string> { ["Trainer__RecruitTimeout"] = "00:02:00" };   // the new coordinator waits for replica-c
        var replicas = new[] { _bed.StartReplica("replica-a", environment: patient), _bed.StartReplica("replica-b", environment: patient) };
        await _bed.WaitUntilRunningAsync("replica-a", "replica-b");
        await _bed.SubmitAsync("headless", TrainerTestBed.Spec(maxSteps: 200, accumulation: 2, parallelism: 2));
        await _bed.WaitForEventAsync("headless", "checkpoint", TimeSpan.FromMinutes(2));
        var coordinator = (await _bed.Jobs.GetAsync("headless"))!["replica"];
        var first = replicas.Single(r => r.InstanceId == coordinator);
        var survivor = replicas.Single(r => r != first);

        first.KillHard();
        _bed.StartReplica("replica-c", environment: patient);   // a fresh replica the new coordinator can recruit
        var job = await _bed.WaitForFinalAsync("headless");

        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.NotEqual(coordinator, job["replica"]);
        // the old member left the dead group (a replica serves one group at a time) and trained in the new one, with replica-c
        Assert.Equal([survivor.InstanceId, "replica-c"], job["members"].Split(',').Order());
        Assert.Equal(job["replica"], job["members"].Split(',')[0]);
        Assert.Equal("2", job["generation"]);
        Assert.Equal(Enumerable.Range(1, 200), (await _bed.TrainStepsAsync("headless")).Distinct().Order());
    }

    [Fact]
    public async Task CancelledDataParallelJobStopsAndFreesEveryMember()
    {
        _bed.StartReplica("replica-a");
        _bed.StartReplica("replica-b");
        await _bed.WaitUntilRunningAsync("replica-a", "replica-b");
        await _bed.SubmitAsync("long", TrainerTestBed.Spec(maxSteps: 5000, accumulation: 2, parallelism: 2));
        await _bed.WaitForEventAsync("long", "checkpoint", TimeSpan.FromMinutes(2));

        await _bed.Jobs.RequestCancelAsync("long");
        var job = await _bed.WaitForFinalAsync("long");
        Assert.Equal(JobStatus.Cancelled, job["status"]);

        // both replicas are free again: the member left the ended group, so a next K=2 job gets both
        await _bed.SubmitAsync("next", TrainerTestBed.Spec(maxSteps: 4, accumulation: 2, parallelism: 2));
        var next = await _bed.WaitForFinalAsync("next");
        Assert.Equal(JobStatus.Done, next["status"]);
        Assert.Equal(2, next["members"].Split(',').Length);
    }

    [Fact]
    public async Task TooFewFreeReplicasTrainWithThosePresentAfterTheRecruitTimeout()
    {
        _bed.StartReplica("replica-a", environment: new Dictionary<string, string> { ["Trainer__RecruitTimeout"] = "00:00:02" });
        await _bed.SubmitAsync("alone", TrainerTestBed.Spec(maxSteps: 4, accumulation: 4, parallelism: 3));

        var job = await _bed.WaitForFinalAsync("alone");

        Assert.Equal(JobStatus.Done, job["status"]);
        Assert.Equal("replica-a", job["members"]);
        Assert.Contains(await _bed.EventsAsync("alone"), e => e.Kind == "group" && e.Message.Contains("only 1 of 3"));
    }

    [Fact]
    public async Task ParallelismOutOfRangeFailsTheJobNamingTheField()
    {
        _bed.StartReplica("replica-a");
        await _bed.SubmitAsync("bad", TrainerTestBed.Spec(maxSteps: 4, accumulation: 16, parallelism: 17));

        var job = await _bed.WaitForFinalAsync("bad");

        Assert.Equal(JobStatus.Failed, job["status"]);
        Assert.Contains("training.parallelism must be in 1..16 (got 17)", job["error"]);
    }
}

/// <summary>The data-parallel test classes run one after the other (each starts several trainer processes on a 2-core machine).</summary>
[CollectionDefinition(Name)]
public sealed class DataParallelCollection
{
    public const string Name = "data-parallel";
}
