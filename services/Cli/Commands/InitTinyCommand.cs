using System.CommandLine;
using FineTune.Models;
using FineTune.Models.Tiny;

namespace FineTune.Cli.Commands;

/// <summary><c>ft init-tiny [folder] [--preset tiny] [--family llama] [--seed 0] [--force] [--json]</c>: writes a tiny random model.</summary>
public static class InitTinyCommand
{
    public static Command Create()
    {
        var folder = new Argument<string?>("folder")
        {
            Description = "Where to write it (default: $FineTune__DataRoot/models/tiny-llama, else .ft/data/models/tiny-llama)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var preset = new Option<string>("--preset")
        {
            Description = $"Size: {string.Join(", ", TinyModelPreset.All.Select(p => $"{p.Name} ({p.Layers}×{p.HiddenSize})"))}",
            DefaultValueFactory = _ => TinyModelPreset.Tiny.Name,
        };
        var family = new Option<string>("--family")
        {
            Description = $"Architecture and config layout: {string.Join(", ", TinyFamily.Names)}",
            DefaultValueFactory = _ => "llama",
        };
        var seed = new Option<long>("--seed") { Description = "Weight initialisation seed", DefaultValueFactory = _ => 0 };
        var force = new Option<bool>("--force") { Description = "Replace the folder if it is not empty" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (documented in docs/cli.md)" };
        var command = new Command("init-tiny", "Write a tiny random model (Llama by default, or another --family) as a Hugging Face folder")
        {
            folder, preset, family, seed, force, json,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(folder) ?? DefaultFolder();
            var p = TinyModelPreset.Named(parse.GetValue(preset)!);
            var f = TinyFamily.Check(parse.GetValue(family)!);
            Console.Error.WriteLine($"ft: writing tiny {f} model ({p.Name}, seed {parse.GetValue(seed)}) to {target}");
            TinyModel.Write(target, parse.GetValue(seed), p, parse.GetValue(force), family: f);
            var summary = ModelInspector.Inspect(target);
            if (parse.GetValue(json))
                CliJson.Write(new { folder = summary.Folder, preset = p.Name, family = f, seed = parse.GetValue(seed), summary.ParameterCount, summary.VocabSize, summary.Layers, summary.HiddenSize });
            else
                Console.WriteLine($"{summary.Folder}: {summary.Architecture}, {summary.ParameterCount:N0} parameters, vocab {summary.VocabSize}");
            return 0;
        });
        return command;
    }

    private static string DefaultFolder()
    {
        var root = Environment.GetEnvironmentVariable("FineTune__DataRoot");
        return Path.Combine(string.IsNullOrEmpty(root) ? Path.Combine(".ft", "data") : root, TinyModel.DataRootFolder);
    }
}
