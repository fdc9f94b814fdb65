using FineTune.Formats.Safetensors;
using FineTune.Messaging;
using FineTune.Training.Jobs;
using FineTune.Training.Parallel;
using FineTune.Training.Training;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;

namespace Trainer.Worker.Tests;

/// <summary>
/// The gradient exchange at library level: trainers in this process, real Redis in between. Two members that each train half
/// of every global batch must produce the run one replica produces with the same global batch.
/// </summary>
public sealed class DataParallelSyncTests : IAsyncLifetime
{
    private readonly TrainerTestBed _bed = new();

    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync();

    [Fact]
    public async Task DataParallelK2EqualsK1WithinTolerance()
    {
        var spec = TrainerTestBed.Spec(maxSteps: 12, accumulation: 4);
        var single = await TrainAsync(spec, "single", group: null, rank: 0);

        var group = new DataParallelGroup("lib", 1, ["member-a", "member-b"]);
        await _bed.Db.HashSetAsync(StreamNames.TrainGroupOf(group.JobId),
            [new("generation", 1), new("status", GroupStore.Running), new("members", "member-a,member-b")]);
        var rank0 = Task.Run(() => TrainAsync(spec, "pair", group, 0));
        var rank1 = Task.Run(() => TrainAsync(spec, "pair", group, 1));
        var (coordinator, member) = (await rank0, await rank1);

        // same per-step losses as one replica (the members agree bit for bit: they reduce the same bytes in the same order)
        Assert.Equal(12, coordinator.Count);
        Assert.Equal(coordinator.Select(s => s.Loss), member.Select(s => s.Loss));
        Assert.Equal(coordinator.Select(s => s.GradNorm), member.Select(s => s.GradNorm));
        foreach (var (one, two) in single.Zip(coordinator))
        {
            Assert.True(Math.Abs(one.Loss - two.Loss) <= 1e-5 * Math.Max(1, Math.Abs(one.Loss)), $"step {one.Step}: loss {one.Loss} alone, {two.Loss} with K=2");
            Assert.Equal(one.Tokens, two.Tokens);   // the members' shards together cover the global batch exactly
        }
        Assert.All(coordinator, s => Assert.True(s.SyncSeconds > 0));

        // the adapters, tensor by tensor
        using var expected = SafetensorsFile.Open(AdapterFile("single"));
        using var actual = SafetensorsFile.Open(AdapterFile("pair"));
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(), actual.Tensors.Select(t => t.Name).Order());
        var trained = 0.0;
        foreach (var info in expected.Tensors)
        {
            var a = Floats(expected, info.Name);
            var b = Floats(actual, info.Name);
            Assert.Equal(a.Length, b.Length);
            var maxDiff = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(maxDiff <= 1e-5, $"{info.Name}: max |Δ| = {maxDiff}");
            if (info.Name.Contains("lora_B")) trained = Math.Max(trained, a.Max(Math.Abs));
        }
        Assert.True(trained > 1e-4, "lora_B is still (nearly) zero: nothing was trained, so the comparison proves nothing");
    }

    private string AdapterFile(string output) =>
        Path.Combine(_bed.DataRoot, "out", output, TrainingRun.AdapterFolder, "adapter_model.safetensors");

    private static float[] Floats(SafetensorsFile file, string name) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetSpan(name)).ToArray();

    /// <summary>Trains <paramref name="spec"/> into out/<paramref name="output"/>, alone or as <paramref name="rank"/> of <paramref name="group"/>.</summary>
    private async Task<List<StepRecord>> TrainAsync(string spec, string output, DataParallelGroup? group, int rank)
    {
        var job = TrainingJobFile.Parse(spec, "dp.yaml");
        job.Output = Path.Combine("out", output);
        job.Training.SaveSteps = 4;
        using var blocking = group is null ? null : await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        TrainingRun run;
        lock (_bed) run = TrainingRun.PrepareAsync(job, _bed.DataRoot).GetAwaiter().GetResult();   // seeds torch: one at a time
        using (run)
        {
            if (group is not null)
                run.GradientSync = new RedisGradientSync(_bed.Db, blocking!.GetDatabase(), group, rank, _ => Task.FromResult(true), TimeSpan.FromMinutes(1));
            var steps = new List<StepRecord>();
            await foreach (var e in run.RunAsync())
                if (e is StepRecord s) steps.Add(s);
            return steps;
        }
    }
}
