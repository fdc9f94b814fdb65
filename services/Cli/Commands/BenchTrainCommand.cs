using System.CommandLine;
using FineTune.Models.Quantization;
using FineTune.Cli.Benchmarks;
using static TorchSharp.torch;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft bench-train [--preset bench] [--seq 512] [--batch 2] [--rank 16] [--steps 5] [--warmup 2] [--threads 0] [--row-threads 0] [--gradient-checkpointing] [--profile] [--model DIR] [--quantization none|nf4|int8] [--dtype f32|bf16] [--json]</c>:
/// LoRA training tokens/s and MFU against the same run's measured matmul peak (formula in docs/benchmarks/training.md),
/// and one step's transient resident memory (peak RSS during an extra step minus RSS before it). --profile adds the
/// seconds per step of each phase (data, forward, loss, backward, optimizer), measured in a second pass.
/// </summary>
public static class BenchTrainCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Tiny model preset (bench = 4 layers, 512 wide)", DefaultValueFactory = _ => "bench" };
        var seq = new Option<int>("--seq") { Description = "Sequence length", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--batch") { Description = "Rows per step", DefaultValueFactory = _ => 2 };
        var rank = new Option<int>("--rank") { Description = "LoRA rank (all 7 projections)", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "Measured steps (after the warm-up steps)", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps before the measured ones (after the memory step)", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = libtorch default)", DefaultValueFactory = _ => 0 };
        var rowThreads = new Option<int>("--row-threads") { Description = "Split each batch's rows over this many single-threaded shards (0 = auto, 1 = off: one batch over the intra-op threads)", DefaultValueFactory = _ => 0 };
        var checkpointing = new Option<bool>("--gradient-checkpointing") { Description = "Recompute decoder-layer activations in backward (training.gradient_checkpointing)" };
        var profile = new Option<bool>("--profile") { Description = "Also time each phase of a step (data, forward, loss, backward, optimizer)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var model = new Option<string?>("--model") { Description = "A Hugging Face model folder instead of a preset (e.g. from `ft init --config`)" };
        var quantization = new Option<string>("--quantization") { Description = "Frozen base storage: none, nf4 or int8", DefaultValueFactory = _ => "none" };
        var dtype = new Option<string>("--dtype") { Description = "The dtype the model is loaded in: f32 (training's default on CPU) or bf16", DefaultValueFactory = _ => "f32" };
        var command = new Command("bench-train", "Measure LoRA training throughput, MFU and memory")
        {
            preset, seq, batch, rank, steps, warmup, threads, rowThreads, checkpointing, profile, json, model, quantization, dtype,
        };
        command.SetAction(parse =>
        {
            var kind = BaseQuantization.ParseKind(parse.GetValue(quantization))
                ?? throw new ArgumentException($"--quantization must be none, nf4 or int8 (got {parse.GetValue(quantization)})");
            var r = TrainingBenchmark.Run(parse.GetValue(preset)!, parse.GetValue(seq), parse.GetValue(batch), parse.GetValue(rank),
                warmupSteps: parse.GetValue(warmup), steps: parse.GetValue(steps), threads: parse.GetValue(threads),
                gradientCheckpointing: parse.GetValue(checkpointing), modelFolder: parse.GetValue(model), quantization: new BaseQuantization { Kind = kind },
                dtype: ParseDType(parse.GetValue(dtype)!), rowThreads: parse.GetValue(rowThreads));
            if (parse.GetValue(profile))
                r = r with
                {
                    Profile = TrainingStepProfile.Run(parse.GetValue(preset)!, parse.GetValue(seq), parse.GetValue(batch), parse.GetValue(rank),
                        steps: parse.GetValue(steps), threads: parse.GetValue(threads), gradientCheckpointing: parse.GetValue(checkpointing)),
                };
            if (parse.GetValue(json)) CliJson.Write(r);
            else
            {
                Console.WriteLine($"load + LoRA injection {r.LoadSeconds:F1} s, RSS after it {r.RssAfterLoadMib:N0} MiB");
                Console.WriteLine($"{r.Preset} ({r.Layers}×{r.Hidden}), seq {r.SeqLen}, batch {r.BatchRows}, {r.Threads} threads" +
                    $"{(r.RowThreads > 1 ? $", rows on {r.RowThreads} threads of 1" : ", rows as one batch")}: " +
                    $"{r.TokensPerSecond:N0} tok/s, {r.SecondsPerStep:F2} s/step ({r.CpuSecondsPerStep:F2} CPU s/step), {r.FlopsPerToken / 1e6:F1} MFLOP/token, " +
                    $"{r.AchievedGflops:F1} GFLOP/s of {r.PeakGflops:F1} matmul peak = MFU {r.Mfu:P1}; " +
                    $"gradient checkpointing {(r.GradientCheckpointing ? "on" : "off")}: RSS {r.RssBeforeStepMib:N0} MiB before a step, " +
                    $"peak {r.PeakRssMib:N0} MiB during it (+{r.StepPeakMib:N0} MiB)");
                if (r.Profile is { } p)
                    Console.WriteLine($"profile (s/step): data {p.Data:F3}, forward {p.Forward:F3}, loss {p.Loss:F3}, backward {p.Backward:F3}, " +
                        $"optimizer {p.Optimizer:F3}, total {p.Total:F3}; CPU s/step: data {p.Cpu.Data:F3}, forward {p.Cpu.Forward:F3}, " +
                        $"loss {p.Cpu.Loss:F3}, backward {p.Cpu.Backward:F3}, optimizer {p.Cpu.Optimizer:F3}, total {p.Cpu.Total:F3}");
            }
            return 0;
        });
        return command;
    }

    private static ScalarType ParseDType(string value) => value.ToLowerInvariant() switch
    {
        "f32" or "float32" => ScalarType.Float32,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"--dtype must be f32 or bf16 (got {value})"),
    };
}
