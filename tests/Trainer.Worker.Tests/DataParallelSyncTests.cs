using FineTune.Contracts.Jobs;
using FineTune.Formats.Safetensors;
using FineTune.Training.Jobs;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;

namespace Trainer.Worker.Tests;

/// <summary>
/// The gradient exchange at library level (SftTrainer + RedisGradientSync, no worker): rank 0 in this process, rank 1 a child
/// process, real Redis in between. Two members that each train half
/// of every global batch must produce the run one replica produces with the same global batch.
/// </summary>
[Collection(DataParallelCollection.Name)]
public sealed class DataParallelSyncTests : IAsyncLifetime
{
    private readonly TrainerTestBed _bed = new();

    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync();

    [Fact]
    public Task DataParallelK2EqualsK1WithinTolerance() => AssertKMembersEqualOneReplicaAsync(2);

    [Fact]
    public Task DataParallelK3WithUnevenSharesEqualsK1WithinTolerance() => AssertKMembersEqualOneReplicaAsync(3);   // 4 micro-batches: 2, 1, 1

    private async Task AssertKMembersEqualOneReplicaAsync(int k)
    {
        var spec = TrainerTestBed.Spec(maxSteps: 12, accumulation: 4).Replace("save_steps: 2", "save_steps: 4");
        var jobFile = Path.Combine(_bed.DataRoot, "dp.yaml");
        await File.WriteAllTextAsync(jobFile, spec);
        var single = await TrainAsync(jobFile, "single", group: null);

        // ranks 1.. in their own processes (as real members are), rank 0 here; all train into out/group, only rank 0 writes there
        var group = new DataParallelGroup("lib", 1, [.. Enumerable.Range(0, k).Select(r => $"member-{r}")]);
        await RankRunner.DeclareAsync(_bed.Db, group);
        var groupFile = Path.Combine(_bed.DataRoot, "group.yaml");
        await File.WriteAllTextAsync(groupFile, spec.Replace("model: models/nano", "model: models/nano\noutput: out/group"));
        var processes = Enumerable.Range(1, k - 1).Select(r => RankRunner.StartProcess(groupFile, _bed.DataRoot, _bed.Redis.ConnectionString, group, r)).ToList();
        try
        {
            var outputs = processes.Select(p => (Out: p.StandardOutput.ReadToEndAsync(), Err: p.StandardError.ReadToEndAsync())).ToList();
            var coordinator = await TrainAsync(jobFile, "group", group);
            var members = new List<List<RankRunner.Step>>();
            foreach (var (process, output) in processes.Zip(outputs))
            {
                using (var exit = new CancellationTokenSource(TimeSpan.FromMinutes(1))) await process.WaitForExitAsync(exit.Token);
                Assert.True(process.ExitCode == 0, "a member failed: " + await output.Err);
                members.Add(RankRunner.ParseSteps(await output.Out));
            }

            // same per-step losses as one replica (the members agree bit for bit: they reduce the same bytes in the same order)
            Assert.Equal(12, coordinator.Count);
            foreach (var member in members)
            {
                Assert.Equal(coordinator.Select(s => s.Loss), member.Select(s => s.Loss));
                Assert.Equal(coordinator.Select(s => s.GradNorm), member.Select(s => s.GradNorm));
            }
            foreach (var (one, two) in single.Zip(coordinator))
                Assert.True(Math.Abs(one.Loss - two.Loss) <= 1e-5 * Math.Max(1, Math.Abs(one.Loss)), $"step {one.Number}: loss {one.Loss} alone, {two.Loss} with K={k}");
            Assert.All(coordinator, s => Assert.True(s.SyncSeconds > 0));
        }
        finally
        {
            foreach (var p in processes)
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.Dispose();
            }
        }

        // the adapters, tensor by tensor
        using var expected = SafetensorsFile.Open(AdapterFile("single"));
        using var actual = SafetensorsFile.Open(AdapterFile("group"));
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

    /// <summary>Trains the job into out/<paramref name="output"/> in this process, alone or as rank 0 of <paramref name="group"/>.</summary>
    private async Task<List<RankRunner.Step>> TrainAsync(string jobFile, string output, DataParallelGroup? group)
    {
        var job = TrainingJobFile.Load(jobFile);
        job.Output = Path.Combine("out", output);
        using var redis = group is null ? null : await ConnectionMultiplexer.ConnectAsync(_bed.Redis.ConnectionString);
        var steps = new List<RankRunner.Step>();
        await foreach (var s in RankRunner.TrainAsync(job, _bed.DataRoot, group, 0, redis)) steps.Add(s);
        return steps;
    }
}
