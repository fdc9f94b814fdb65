using System.Globalization;
using FineTune.Contracts.Jobs;
using FineTune.Messaging;
using FineTune.Training.Jobs;
using FineTune.Training.Training;
using StackExchange.Redis;

namespace Trainer.Worker.DataParallel;

/// <summary>
/// One rank of a data-parallel group outside the worker's job machinery, as its own process:
/// <c>Trainer.Worker train-rank --job job.yaml --base DIR --redis CONN --group JOBID --generation N --members a,b --rank R</c>.
/// The library-level test and bench/DataParallel.Bench run rank 1 this way (two trainers in one process would share the GC and
/// TorchSharp's finalizers; real members are separate processes too). Prints one line per step: step, loss, sync seconds.
/// </summary>
public static class RankRunner
{
    public sealed record Step(int Number, double Loss, double GradNorm, double SyncSeconds, double Seconds);

    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length
            ? args[i + 1] : throw new ArgumentException($"train-rank: {name} is required");
        var job = TrainingJobFile.Load(Arg("--job"));
        var group = new DataParallelGroup(Arg("--group"), long.Parse(Arg("--generation"), CultureInfo.InvariantCulture), Arg("--members").Split(','));
        using var redis = await ConnectionMultiplexer.ConnectAsync(Arg("--redis"));
        var rank = int.Parse(Arg("--rank"), CultureInfo.InvariantCulture);
        await foreach (var s in TrainAsync(job, Arg("--base"), group, rank, redis))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {s.Number} loss {s.Loss:R} grad_norm {s.GradNorm:R} sync_s {s.SyncSeconds:R} step_s {s.Seconds:R}"));
        return 0;
    }

    /// <summary>Creates the group hash of <paramref name="group"/> (status running), as a coordinator would.</summary>
    public static Task DeclareAsync(IDatabase db, DataParallelGroup group) =>
        db.HashSetAsync(StreamNames.TrainGroupOf(group.JobId),
            [new("generation", group.Generation), new("status", GroupStore.Running), new("members", string.Join(",", group.Members))]);

    /// <summary>Trains <paramref name="job"/> as <paramref name="rank"/> of <paramref name="group"/> (alone when null), yielding each step.</summary>
    public static async IAsyncEnumerable<Step> TrainAsync(TrainingJob job, string baseDirectory, DataParallelGroup? group, int rank, IConnectionMultiplexer? redis,
        Action<RedisGradientSync>? created = null)
    {
        using var blocking = group is null ? null : await BlockingRedis.ConnectAsync(redis!);
        RedisGradientSync? sync = null;
        if (group is not null)
        {
            sync = new RedisGradientSync(redis!.GetDatabase(), blocking!.GetDatabase(), group, rank, _ => Task.FromResult(true), TimeSpan.FromMinutes(5));
            created?.Invoke(sync);
        }
        using var run = await TrainingRun.PrepareAsync(job, baseDirectory, gradientSync: sync);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = clock.Elapsed;
        await foreach (var e in run.RunAsync())
        {
            if (e is not StepRecord s) continue;
            yield return new Step(s.Step, s.Loss, s.GradNorm, s.SyncSeconds, (clock.Elapsed - last).TotalSeconds);
            last = clock.Elapsed;
        }
    }

    /// <summary>Starts <c>train-rank</c> as a child process (the Trainer.Worker.dll beside the calling assembly).</summary>
    public static System.Diagnostics.Process StartProcess(string jobFile, string baseDirectory, string redis, DataParallelGroup group, int rank)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     Path.Combine(AppContext.BaseDirectory, "Trainer.Worker.dll"), "train-rank", "--job", jobFile, "--base", baseDirectory, "--redis", redis,
                     "--group", group.JobId, "--generation", group.Generation.ToString(CultureInfo.InvariantCulture), "--members", string.Join(",", group.Members),
                     "--rank", rank.ToString(CultureInfo.InvariantCulture),
                 })
            psi.ArgumentList.Add(a);
        return System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("could not start train-rank");
    }

    /// <summary>Reads the step lines a <c>train-rank</c> process printed.</summary>
    public static List<Step> ParseSteps(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("step ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(p => new Step(int.Parse(p[1], CultureInfo.InvariantCulture), double.Parse(p[3], CultureInfo.InvariantCulture),
                double.Parse(p[5], CultureInfo.InvariantCulture), double.Parse(p[7], CultureInfo.InvariantCulture), double.Parse(p[9], CultureInfo.InvariantCulture)))
            .ToList();
}
