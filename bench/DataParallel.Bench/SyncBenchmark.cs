using System.Diagnostics;
using System.Globalization;
using FineTune.Contracts.Jobs;
using FineTune.Models.Tiny;
using FineTune.Training.Jobs;
using FineTune.Training.Training;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;

namespace DataParallel.Bench;

/// <summary>
/// Per-step cost of the data-parallel gradient exchange (docs/benchmarks/training.md): the same deterministic job on a
/// TinyModel preset, trained by one replica and then by two members (this process and a <see cref="RankRunner"/> child, one
/// intra-op thread each) over the Redis given, reporting the step time, the time spent in <see cref="RedisGradientSync"/> and
/// the payload size.
/// Usage: <c>DataParallel.Bench --redis host:port[,password=…] [--preset tiny] [--steps 20] [--seq 256]</c>.
/// </summary>
internal static class SyncBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        var redis = Arg("--redis", "127.0.0.1:6379");
        var preset = TinyModelPreset.Named(Arg("--preset", "tiny"));
        var steps = int.Parse(Arg("--steps", "20"), CultureInfo.InvariantCulture);
        var seq = int.Parse(Arg("--seq", "256"), CultureInfo.InvariantCulture);
        const int warmup = 2;

        var root = Directory.CreateTempSubdirectory("ft-bench-sync-").FullName;
        try
        {
            var jobFile = await WriteJobAsync(root, preset, seq, steps + warmup);
            TrainingJob Job(string output) { var j = TrainingJobFile.Load(jobFile); j.Output = Path.Combine(root, output); return j; }
            var trainable = 0L;
            var alone = await CollectAsync(RankRunner.TrainAsync(Job("alone"), root, null, 0, null));

            using var mux = await ConnectionMultiplexer.ConnectAsync(redis);
            var group = new DataParallelGroup($"bench-{Guid.NewGuid():N}", 1, ["rank0", "rank1"]);
            await RankRunner.DeclareAsync(mux.GetDatabase(), group);
            using var member = RankRunner.StartProcess(jobFile, root, redis, group, 1);   // output folder: the job's own (it writes nothing)
            var memberOutput = member.StandardOutput.ReadToEndAsync();
            var memberErrors = member.StandardError.ReadToEndAsync();
            RedisGradientSync? sync = null;
            var coordinator = new List<RankRunner.Step>();
            (TimeSpan Send, TimeSpan Wait, TimeSpan Reduce, int Steps) atWarmup = default;   // the first steps include rank 1's start-up
            await foreach (var step in RankRunner.TrainAsync(Job("pair"), root, group, 0, mux, s => sync = s))
            {
                coordinator.Add(step);
                if (step.Number == warmup) atWarmup = (sync!.SendTime, sync.WaitTime, sync.ReduceTime, sync.Steps);
            }
            await member.WaitForExitAsync();
            if (member.ExitCode != 0) throw new InvalidOperationException("rank 1 failed: " + await memberErrors);
            var pair = new[] { coordinator, RankRunner.ParseSteps(await memberOutput) };
            await mux.GetDatabase().KeyDeleteAsync([FineTune.Messaging.StreamNames.TrainGroupOf(group.JobId), FineTune.Messaging.StreamNames.TrainGradients(group.JobId, 1)]);
            using (var probe = await TrainingRun.PrepareAsync(Job("probe"), root)) trainable = probe.Parameters.Trainable;

            static double Median(IEnumerable<double> values) { var v = values.Order().ToArray(); return v.Length == 0 ? 0 : v[v.Length / 2]; }
            var stepAlone = Median(alone.Skip(warmup).Select(x => x.Seconds)) * 1000;
            var stepPair = Median(pair[0].Skip(warmup).Select(x => x.Seconds)) * 1000;
            // per step: the member that arrived last waited for no one, so its sync time is the exchange itself
            var exchange = Median(Enumerable.Range(warmup, steps).Select(i => Math.Min(pair[0][i].SyncSeconds, pair[1][i].SyncSeconds))) * 1000;
            var waiting = Median(Enumerable.Range(warmup, steps).Select(i => Math.Max(pair[0][i].SyncSeconds, pair[1][i].SyncSeconds))) * 1000;
            var maxDiff = alone.Zip(pair[0], (a, b) => Math.Abs(a.Loss - b.Loss)).Max();
            Console.WriteLine("| preset | LoRA params | payload/member/step | K=1 step | K=2 step | exchange (last member) | sync incl. waiting (first member) | exchange / K=2 step | max |Δloss| K=2 vs K=1 |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {preset.Name} ({preset.Layers}×{preset.HiddenSize}), seq {seq}, 2×4 rows | {trainable:N0} | {trainable * 4 / 1024.0:F0} KiB | {stepAlone:F0} ms | {stepPair:F0} ms | {exchange:F1} ms | {waiting:F1} ms | {exchange / stepPair:P1} | {maxDiff:E1} |"));
            PrintSyncBreakdown(coordinator, sync!, atWarmup, warmup);
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The TinyModel, 64 random two-turn records of about <paramref name="seq"/> tokens, and the deterministic job file naming them.</summary>
    private static async Task<string> WriteJobAsync(string root, TinyModelPreset preset, int seq, int maxSteps)
    {
        TinyModel.Write(Path.Combine(root, "model"), seed: 0, preset);
        var random = new Random(1);
        string[] words = ["alpha", "beta", "gamma", "delta", "price", "name", "json", "red", "blue", "seven", "forty", "shoe"];
        string Text(int n) => string.Join(' ', Enumerable.Range(0, n).Select(_ => words[random.Next(words.Length)]));
        await File.WriteAllLinesAsync(Path.Combine(root, "data.jsonl"), Enumerable.Range(0, 64).Select(_ =>
            $$"""{"messages":[{"role":"user","content":"{{Text(seq / 6)}}"},{"role":"assistant","content":"{{Text(seq / 3)}}"}]}"""));
        var spec = $$"""
            model: model
            data: data.jsonl
            lora: { r: 16, alpha: 32, dropout: 0, target_modules: [all-linear] }
            sft: { max_seq_len: {{seq}} }
            training: { micro_batch_size: 2, gradient_accumulation_steps: 4, max_steps: {{maxSteps}}, learning_rate: 1e-4, warmup_steps: 0, deterministic: true, seed: 5 }
            """;

        var jobFile = Path.Combine(root, "job.yaml");
        await File.WriteAllTextAsync(jobFile, spec);
        return jobFile;
    }

    /// <summary>Rank 0's mean time per step in the gradient exchange after warm-up, by part: XADD, XREAD + waiting, sum, the rest.</summary>
    private static void PrintSyncBreakdown(List<RankRunner.Step> coordinator, RedisGradientSync sync,
        (TimeSpan Send, TimeSpan Wait, TimeSpan Reduce, int Steps) atWarmup, int warmup)
    {
        var n = sync.Steps - atWarmup.Steps;
        var inSync = coordinator.Skip(warmup).Average(x => x.SyncSeconds) * 1000;
        var (send, wait, reduce) = ((sync.SendTime - atWarmup.Send).TotalMilliseconds / n, (sync.WaitTime - atWarmup.Wait).TotalMilliseconds / n,
            (sync.ReduceTime - atWarmup.Reduce).TotalMilliseconds / n);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rank 0, mean per step after warm-up: {inSync:F1} ms in sync = flatten + copy back {inSync - send - wait - reduce:F1} ms, " +
            $"XADD {send:F1} ms, XREAD + decode + waiting {wait:F1} ms, sum {reduce:F1} ms"));
    }

    private static async Task<List<RankRunner.Step>> CollectAsync(IAsyncEnumerable<RankRunner.Step> steps)
    {
        var list = new List<RankRunner.Step>();
        await foreach (var s in steps) list.Add(s);
        return list;
    }
}
