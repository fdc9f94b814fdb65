using System.CommandLine;
using FineTune.Export;
using FineTune.Export.Ollama;
using FineTune.Export.Verification;
using FineTune.Formats.Gguf;
using FineTune.Training.Merge;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft export &lt;base-model&gt; --out DIR [--adapter DIR] [--type q4_k_m] [--name NAME] [--system TEXT] [--temperature T]
/// [--top-p P] [--num-ctx N] [--family F] [--eval-prompt TEXT]… [--verify] [--node-tools DIR] [--ollama URL] [--no-register] [--json]</c>:
/// the same export the export worker runs (docs/export.md). Progress goes to stderr; with --json, export.json to stdout.
/// The CLI has TorchSharp, so it merges an adapter itself (AdapterMerger); the export worker takes the trainer's merge.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("base-model") { Description = "Hugging Face base model folder" };
        var output = new Option<string>("--out") { Description = "Artifacts folder", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "PEFT LoRA adapter folder: merged into the model and also exported as a GGUF adapter" };
        var type = new Option<string>("--type") { Description = "GGUF type: f32, f16, bf16, q8_0, q4_0, q4_k_m", DefaultValueFactory = _ => "q4_k_m" };
        var name = new Option<string>("--name") { Description = "Model name in Ollama", DefaultValueFactory = _ => "finetuned" };
        var system = new Option<string?>("--system") { Description = "SYSTEM prompt of the Modelfile" };
        var temperature = new Option<double?>("--temperature") { Description = "PARAMETER temperature" };
        var topP = new Option<double?>("--top-p") { Description = "PARAMETER top_p" };
        var numCtx = new Option<int?>("--num-ctx") { Description = "PARAMETER num_ctx" };
        var family = new Option<string?>("--family") { Description = "Chat family for the Ollama TEMPLATE when the model's template is not recognised" };
        var evalPrompts = new Option<string[]>("--eval-prompt") { Description = "Prompt run through llama.cpp (--verify) and Ollama after registration; repeatable" };
        var verify = new Option<bool>("--verify") { Description = "Load the GGUF in real llama.cpp (node-llama-cpp) and generate" };
        var nodeTools = new Option<string?>("--node-tools") { Description = "Folder with node-llama-cpp (default: eng/node of this repository)" };
        var ollama = new Option<string?>("--ollama") { Description = "Ollama URL (default: $OLLAMA_HOST or http://127.0.0.1:11434); unreachable = skipped" };
        var noRegister = new Option<bool>("--no-register") { Description = "Do not register in Ollama" };
        var json = new Option<bool>("--json") { Description = "Print export.json to stdout (documented in docs/export.md)" };
        var command = new Command("export", "Merge, convert to GGUF (+ GGUF LoRA adapter), write the Modelfile, verify with llama.cpp and register in Ollama")
        {
            model, output, adapter, type, name, system, temperature, topP, numCtx, family, evalPrompts, verify, nodeTools, ollama, noRegister, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = new ExportRequest
            {
                BaseModel = Path.GetFullPath(parse.GetValue(model)!),
                Adapter = parse.GetValue(adapter) is { } a ? Path.GetFullPath(a) : null,
                OutputFolder = Path.GetFullPath(parse.GetValue(output)!),
                GgufType = GgufFileType.Parse(parse.GetValue(type)!),
                ModelName = parse.GetValue(name)!,
                System = parse.GetValue(system),
                Parameters = new OllamaParameters(parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(numCtx)),
                ChatFamily = parse.GetValue(family),
                EvaluationPrompts = parse.GetValue(evalPrompts) ?? [],
                Verify = parse.GetValue(verify),
                Register = !parse.GetValue(noRegister),
            };
            using var http = request.Register ? new HttpClient { BaseAddress = OllamaUri(parse.GetValue(ollama)), Timeout = Timeout.InfiniteTimeSpan } : null;
            var registration = http is null ? null : new OllamaRegistration(http, NullLogger.Instance);
            var runner = request.Verify ? new LlamaCppRunner(parse.GetValue(nodeTools) ?? FindNodeTools()) : null;
            var job = new ExportJob(NullLogger.Instance, registration, runner, (b, a, o) => AdapterMerger.Merge(b, a, o))
            {
                Progress = new SyncProgress(stage => Console.Error.WriteLine($"ft export: {stage}")),
            };
            var outcome = await job.RunAsync(request, cancellationToken);
            if (parse.GetValue(json))
                Console.Out.WriteLine(File.ReadAllText(Path.Combine(outcome.Folder, ExportManifest.FileName)));
            else
                WriteSummary(outcome);
            return outcome.Manifest.Registration == "Failed" ? 3 : 0;
        });
        return command;
    }

    /// <summary>The artifacts, the llama.cpp and Ollama outcomes, and the commands to register or run the model by hand.</summary>
    private static void WriteSummary(ExportOutcome outcome)
    {
        var m = outcome.Manifest;
        Console.Out.WriteLine(outcome.Skipped ? $"Up to date: {outcome.Folder}" : $"Exported to {outcome.Folder}");
        foreach (var artifact in m.Artifacts) Console.Out.WriteLine($"  {artifact.Kind,-18} {artifact.Path,-26} {artifact.Bytes,14:N0} bytes  sha256:{artifact.Sha256[..16]}…");
        if (m.Verification is not null) Console.Out.WriteLine($"  llama.cpp: {m.Verification}");
        Console.Out.WriteLine($"  Ollama: {m.Registration}{(m.RegistrationNote is null ? "" : " — " + m.RegistrationNote)}");
        Console.Out.WriteLine($"  Register by hand: cd {outcome.Folder} && {m.OllamaCreateCommand}");
        Console.Out.WriteLine($"  llama.cpp: llama-cli -m {Path.Combine(outcome.Folder, $"model-{m.GgufType}.gguf")}");
    }

    private static Uri OllamaUri(string? option)
    {
        var value = option ?? Environment.GetEnvironmentVariable("OLLAMA_HOST") ?? "http://127.0.0.1:11434";
        if (!value.Contains("://", StringComparison.Ordinal)) value = "http://" + value;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) ? uri : throw new CliException($"--ollama: '{value}' is not a URL");
    }

    private static string FindNodeTools()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "eng", "node", LlamaCppRunner.ScriptName)))
                return Path.Combine(dir.FullName, "eng", "node");
        throw new CliException("--verify needs node-llama-cpp: pass --node-tools <repo>/eng/node (installed by eng/prereqs.sh).");
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SyncProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
