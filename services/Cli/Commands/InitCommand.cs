using System.CommandLine;
using FineTune.Models;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft init --config config.json --out DIR [--dtype bf16|f16|f32] [--seed 0] [--shard-mb 5000] [--force]</c>: writes a
/// random checkpoint of any supported architecture, streaming tensor by tensor (a 7B one never held in memory).
/// </summary>
public static class InitCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "A Hugging Face config.json (or a folder holding one)", Required = true };
        var output = new Option<string>("--out") { Description = "The folder to write (config.json, model*.safetensors)", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "bf16, f16 or f32", DefaultValueFactory = _ => "bf16" };
        var seed = new Option<long>("--seed") { Description = "Weight seed", DefaultValueFactory = _ => 0 };
        var shard = new Option<long>("--shard-mb") { Description = "Largest shard in MB (10^6 bytes)", DefaultValueFactory = _ => 5000 };
        var force = new Option<bool>("--force") { Description = "Write into a folder that is not empty" };
        var command = new Command("init", "Write a random checkpoint for a config.json (benchmarks, tests)") { config, output, dtype, seed, shard, force };
        command.SetAction(parse =>
        {
            var type = ParseDType(parse.GetValue(dtype)!);
            var source = parse.GetValue(config)!;
            var folder = Directory.Exists(source) ? source : Path.GetDirectoryName(Path.GetFullPath(source))!;
            var cfg = Directory.Exists(source) ? ModelConfig.FromFolder(source) : ModelConfig.FromFile(source);
            var target = parse.GetValue(output)!;
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !parse.GetValue(force))
                throw new IOException($"{target}: folder is not empty (use --force)");
            var bytes = RandomCheckpoint.Bytes(cfg, type);
            Console.Error.WriteLine($"ft: writing a random {cfg.Architecture} ({bytes / 1e9:F2} GB {parse.GetValue(dtype)}) to {target}");
            var files = RandomCheckpoint.Write(cfg, target, type, parse.GetValue(seed), maxShardBytes: parse.GetValue(shard) * 1_000_000);
            foreach (var name in new[] { "tokenizer.json", "tokenizer_config.json", "generation_config.json", "special_tokens_map.json" })
                if (File.Exists(Path.Combine(folder, name)) && !File.Exists(Path.Combine(target, name)))
                    File.Copy(Path.Combine(folder, name), Path.Combine(target, name));
            Console.WriteLine($"{Path.GetFullPath(target)}: {files.Count} file(s), {bytes:N0} bytes of weights");
            return 0;
        });
        return command;
    }

    private static ScalarType ParseDType(string value) => value.ToLowerInvariant() switch
    {
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "f16" or "fp16" or "float16" => ScalarType.Float16,
        "f32" or "fp32" or "float32" => ScalarType.Float32,
        _ => throw new ArgumentException($"--dtype must be bf16, f16 or f32 (got {value})"),
    };
}
