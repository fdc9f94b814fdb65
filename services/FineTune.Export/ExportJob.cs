// The export of one job, the same code for Export.Worker and `ft export`, one span (export.<stage>) and one
// ft.export.stage.duration sample per stage:
//   merge: adapter/ (the PEFT adapter, copied) and merged/ (base + adapter) → gguf_adapter: adapter.gguf
//   (PeftToGgufLoraConverter) → gguf: model-<type>.gguf (HfToGgufConverter) → modelfile: Modelfile (+ Modelfile.adapter)
//   → verify: optional llama.cpp run → register: optional Ollama registration → export.json (artifact hashes).
// No TorchSharp here: the merged folder comes made. The trainer writes it when training finishes (jobs/<id>/artifacts/merged,
// AdapterMerger, which dequantizes a quantized base once); `ft export` passes AdapterMerger as the AdapterMerge delegate
// and merges here. docs/architecture.md says why the merge stays with the trainer.
// Every artifact appears atomically (temp + rename). Same inputs ⇒ same input hash ⇒ an existing export whose
// artifacts still hash the same is returned as is (Skipped).
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FineTune.Export.Gguf;
using FineTune.Export.Ollama;
using FineTune.Export.Verification;
using FineTune.Formats.Peft;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.Tokenizers;
using Microsoft.Extensions.Logging;

namespace FineTune.Export;

public sealed record ExportOutcome(bool Skipped, ExportManifest Manifest, string Folder);

/// <summary>Folds the PEFT adapter in <c>adapterFolder</c> into the base in <c>baseFolder</c>, writing a plain HF folder at <c>outputFolder</c>.</summary>
public delegate void AdapterMerge(string baseFolder, string adapterFolder, string outputFolder);

/// <param name="merge">Merges an adapter whose request names no merged folder; null (the export worker) requires one.</param>
public sealed class ExportJob(ILogger logger, OllamaRegistration? ollama = null, LlamaCppRunner? llamaCpp = null, AdapterMerge? merge = null)
{
    public const string TelemetryName = "FineTune.Export";
    public static readonly ActivitySource Activity = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Histogram<double> StageSeconds = Meter.CreateHistogram<double>("ft.export.stage.duration", "s", "Duration of export stages");
    private static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("ft.export.gguf.input_bytes", "By", "Weight bytes converted to GGUF");
    private static readonly Counter<long> Exports = Meter.CreateCounter<long>("ft.export.exports", description: "Exports by outcome");

    /// <summary>The folder under the output that holds the merged model (what Inference.Api serves as the job's model).</summary>
    public const string MergedFolder = "merged";

    public IProgress<string>? Progress { get; init; }

    public async Task<ExportOutcome> RunAsync(ExportRequest request, CancellationToken ct = default)
    {
        using var activity = Activity.StartActivity("export");
        activity?.SetTag("ft.export.type", request.GgufType.Name);
        var output = Directory.CreateDirectory(request.OutputFolder).FullName;
        var inputHash = InputHash(request);
        if (ExportManifest.TryRead(output) is { } existing && existing.InputHash == inputHash && ArtifactsIntact(output, existing))
        {
            logger.LogInformation("Export in {Folder} is up to date (input hash {Hash}); skipped", output, inputHash[..12]);
            Exports.Add(1, new KeyValuePair<string, object?>("outcome", "skipped"));
            return new ExportOutcome(true, existing, output);
        }

        var run = new Run(request, output, GgufModelParameters.FromFolder(request.BaseModel));
        if (request.Adapter is not null)
        {
            MergeStage(run, request.Adapter);
            GgufAdapterStage(run, request.Adapter);
        }
        var gguf = GgufStage(run);
        var modelfile = ModelfileStage(run);
        var verification = request.Verify ? await VerifyAsync(Path.Combine(output, run.GgufName), request, ct) : null;
        var hashed = run.Artifacts.Select(a => Hash(output, a.Kind, a.Path)).ToList();
        var registration = await RegisterAsync(run, modelfile, hashed, ct);

        var manifest = Manifest(run, inputHash, hashed, gguf, verification, registration);
        manifest.Write(output);
        Exports.Add(1, new KeyValuePair<string, object?>("outcome", "exported"));
        logger.LogInformation("Exported {Type} GGUF to {Folder} ({Bytes} bytes in {Seconds:F1}s)", request.GgufType.Name, output, gguf.OutputBytes, gguf.Elapsed.TotalSeconds);
        return new ExportOutcome(false, manifest, output);
    }

    /// <summary>What the stages of one export share: the request, the output folder, the artifacts so far.</summary>
    private sealed class Run(ExportRequest request, string output, GgufModelParameters parameters)
    {
        public ExportRequest Request { get; } = request;
        public string Output { get; } = output;
        public GgufModelParameters Parameters { get; } = parameters;
        public List<(string Kind, string Path)> Artifacts { get; } = [];
        public string GgufName { get; } = $"model-{request.GgufType.Name}.gguf";
        /// <summary>The HF folder the GGUF is made from: the base, or the merged model.</summary>
        public string Source { get; set; } = request.BaseModel;
        public double MergeSeconds { get; set; }
        public string? AdapterForm { get; set; }
    }

    /// <summary>One stage: its span (export.&lt;name&gt;) and its ft.export.stage.duration sample, both ended on dispose.</summary>
    private sealed class Stage(string name) : IDisposable
    {
        private readonly System.Diagnostics.Activity? _span = Activity.StartActivity("export." + name);
        private readonly long _start = Stopwatch.GetTimestamp();

        public double Seconds => Stopwatch.GetElapsedTime(_start).TotalSeconds;

        public void Dispose()
        {
            StageSeconds.Record(Seconds, new KeyValuePair<string, object?>("stage", name));
            _span?.Dispose();
        }
    }

    /// <summary>
    /// Copies the adapter to adapter/ and puts the merged model at merged/: the request's merged folder (the trainer's) in
    /// place or copied, else merged here by the <see cref="AdapterMerge"/> delegate (the CLI's, with TorchSharp).
    /// </summary>
    private void MergeStage(Run run, string adapter)
    {
        using var stage = new Stage("merge");
        CopyFolderAtomically(adapter, Path.Combine(run.Output, "adapter"));
        run.Artifacts.Add(("peft-adapter", "adapter"));
        var merged = Path.Combine(run.Output, MergedFolder);
        if (run.Request.Merged is { } given)
        {
            if (!File.Exists(Path.Combine(given, "config.json")))
                throw new DirectoryNotFoundException($"{given}: the merged model (base + adapter) is not there: no config.json");
            if (Path.GetFullPath(given) != merged)
            {
                Report("copying the merged model");
                CopyFolderAtomically(given, merged);
            }
        }
        else
        {
            if (merge is null)
                throw new InvalidOperationException($"The adapter {adapter} comes without its merged model, and this export does not merge " +
                    "(no TorchSharp here): the trainer writes jobs/<jobId>/artifacts/merged when training finishes; `ft merge` writes one by hand.");
            if (Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
            Report("merging adapter into the base model");
            merge(run.Request.BaseModel, adapter, merged);
        }
        run.Artifacts.Add(("merged", MergedFolder));
        run.Source = merged;
        run.MergeSeconds = stage.Seconds;
    }

    /// <summary>adapter.gguf for llama.cpp's --lora and Ollama's ADAPTER, unless the adapter trains modules in full.</summary>
    private void GgufAdapterStage(Run run, string adapter)
    {
        using var stage = new Stage("gguf_adapter");
        var fullModules = PeftLoraConfig.ReadFolder(adapter).ModulesToSave;
        if (fullModules.Count > 0)
        {
            // llama.cpp (and Ollama's ADAPTER) adapters carry lora_a/lora_b pairs only; modules trained in full live in the merged model.
            Report($"no GGUF LoRA adapter: the adapter trains {string.Join(", ", fullModules)} in full (modules_to_save), which llama.cpp adapters cannot carry; the merged GGUF has them");
            return;
        }
        Report("writing the GGUF LoRA adapter");
        PeftToGgufLoraConverter.Convert(adapter, run.Request.BaseModel, Path.Combine(run.Output, "adapter.gguf"));
        run.Artifacts.Add(("gguf-adapter", "adapter.gguf"));
        run.AdapterForm = AdapterForms.ForOllama(run.Parameters.HfArchitecture);
    }

    /// <summary>model-&lt;type&gt;.gguf from the merged model (or the base), quantized as asked and read back to verify.</summary>
    private GgufExportResult GgufStage(Run run)
    {
        var request = run.Request;
        using var stage = new Stage("gguf");
        Report($"converting to GGUF {request.GgufType.Name}");
        var gguf = new HfToGgufConverter
        {
            ModelName = request.ModelName,
            Verify = true,
            Progress = new Progress<(int Done, int Total, string Tensor)>(p => { if (p.Done == p.Total || p.Done % 16 == 0) Report($"GGUF {p.Done}/{p.Total} tensors"); }),
        }.Convert(run.Source, Path.Combine(run.Output, run.GgufName), request.GgufType);
        foreach (var warning in gguf.Warnings)
        {
            logger.LogWarning("Export: {Warning}", warning);
            Progress?.Report($"warning: {warning}");
        }
        BytesIn.Add(gguf.InputBytes);
        run.Artifacts.Add(("gguf", run.GgufName));
        return gguf;
    }

    /// <summary>Modelfiles: the merged GGUF (works everywhere), and base + adapter in the form Ollama accepts for this architecture.</summary>
    private static Modelfile ModelfileStage(Run run)
    {
        var request = run.Request;
        using var stage = new Stage("modelfile");
        var template = ChatTemplate.FromFolder(request.BaseModel).Source;
        var tokenizer = HfTokenizer.FromFolder(request.BaseModel);
        var eosTokens = tokenizer.EosIds.Select(tokenizer.IdToToken).OfType<string>().ToList();
        var modelfile = Modelfile.Create("./" + run.GgufName, null, template, eosTokens, request.System, request.Parameters, request.ChatFamily);
        AtomicFile.WriteAllText(Path.Combine(run.Output, Modelfile.FileName), modelfile.Render());
        run.Artifacts.Add(("modelfile", Modelfile.FileName));
        if (run.AdapterForm is not null)
        {
            var adapterModelfile = Modelfile.Create(Path.GetFullPath(request.BaseModel), run.AdapterForm == AdapterForms.Gguf ? "./adapter.gguf" : "./adapter",
                template, eosTokens, request.System, request.Parameters, request.ChatFamily);
            AtomicFile.WriteAllText(Path.Combine(run.Output, Modelfile.FileName + ".adapter"), adapterModelfile.Render());
            run.Artifacts.Add(("modelfile-adapter", Modelfile.FileName + ".adapter"));
        }
        return modelfile;
    }

    private async Task<RegistrationResult?> RegisterAsync(Run run, Modelfile modelfile, IReadOnlyList<ExportArtifact> hashed, CancellationToken ct)
    {
        if (!run.Request.Register || ollama is null) return null;
        using var stage = new Stage("register");
        Report("registering in Ollama");
        var blob = new OllamaBlob(run.GgufName, Path.Combine(run.Output, run.GgufName), hashed.Single(a => a.Kind == "gguf").Sha256);
        return await ollama.RegisterAsync(new RegistrationRequest(run.Request.ModelName, [blob], [], modelfile,
            EvaluationPrompts: run.Request.EvaluationPrompts), ct);
    }

    private ExportManifest Manifest(Run run, string inputHash, IReadOnlyList<ExportArtifact> hashed, GgufExportResult gguf,
        string? verification, RegistrationResult? registration)
    {
        var createCommand = Modelfile.CreateCommand(run.Request.ModelName, Modelfile.FileName);
        return new ExportManifest
        {
            InputHash = inputHash,
            GgufType = run.Request.GgufType.Name,
            Architecture = run.Parameters.Architecture,
            ModelName = run.Request.ModelName,
            Artifacts = hashed,
            AdapterForm = run.AdapterForm,
            OllamaCreateCommand = createCommand,
            MergeSeconds = run.MergeSeconds,
            GgufSeconds = gguf.Elapsed.TotalSeconds,
            GgufInputMegabytesPerSecond = gguf.InputMegabytesPerSecond,
            TensorTypes = gguf.Tensors.GroupBy(t => t.Type.ToString()).ToDictionary(g => g.Key, g => g.Count()),
            Verification = verification,
            Registration = registration?.Status.ToString() ?? (ollama is null ? "Skipped" : null),
            RegistrationNote = registration?.Reason ?? (ollama is null ? $"No Ollama endpoint configured. Register by hand: {createCommand}" : null),
            Evaluations = registration?.Evaluations,
            Created = DateTimeOffset.UtcNow,
        };
    }

    private async Task<string> VerifyAsync(string ggufPath, ExportRequest request, CancellationToken ct)
    {
        if (llamaCpp is null || !llamaCpp.IsAvailable)
            throw new InvalidOperationException("Verification was requested but node-llama-cpp is not installed (eng/prereqs.sh).");
        using var stage = new Stage("verify");
        Report("verifying with llama.cpp");
        var prompts = request.EvaluationPrompts.Count > 0 ? request.EvaluationPrompts : ["Hello"];
        var response = await llamaCpp.RunAsync([new LlamaCppJob(ggufPath, prompts, 16)], TimeSpan.FromMinutes(10), ct);
        var job = response.Jobs.FirstOrDefault();
        if (response.Error is not null || job is null || !job.Ok)
        {
            logger.LogError("llama.cpp could not run {Gguf}: {Details}", ggufPath, response.Error ?? job?.Describe());
            throw new LlamaCppVerificationException(
                $"llama.cpp could not run {Path.GetFileName(ggufPath)}: {LlamaCppJobResult.OneLine(response.Error) ?? job?.Summary() ?? "no result"}");
        }
        return $"llama.cpp loaded {Path.GetFileName(ggufPath)} and generated {job.Results!.Sum(r => r.Generated.Length)} tokens over {prompts.Count} prompt(s)";
    }

    private void Report(string message)
    {
        logger.LogInformation("Export: {Stage}", message);
        Progress?.Report(message);
    }

    private static ExportArtifact Hash(string folder, string kind, string relative)
    {
        var full = Path.Combine(folder, relative);
        if (File.Exists(full)) return new ExportArtifact(kind, relative, new FileInfo(full).Length, FileDigest.Sha256Hex(full));
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0;
        foreach (var file in Directory.GetFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(full, file) + "\n" + FileDigest.Sha256Hex(file) + "\n"));
            bytes += new FileInfo(file).Length;
        }
        return new ExportArtifact(kind, relative, bytes, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private static bool ArtifactsIntact(string folder, ExportManifest m) =>
        m.Artifacts.All(a => (File.Exists(Path.Combine(folder, a.Path)) || Directory.Exists(Path.Combine(folder, a.Path)))
                             && Hash(folder, a.Kind, a.Path).Sha256 == a.Sha256);

    /// <summary>sha256 over the options that shape the artifacts and the content of every input file.</summary>
    public static string InputHash(ExportRequest r)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var options = JsonSerializer.Serialize(new { r.GgufType.Name, r.ModelName, r.System, r.Parameters, r.ChatFamily, r.Verify, version = 1 });
        sha.AppendData(Encoding.UTF8.GetBytes(options + "\n"));
        foreach (var (label, folder) in new[] { ("base", r.BaseModel), ("adapter", r.Adapter) })
        {
            if (folder is null) continue;
            foreach (var file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
                sha.AppendData(Encoding.UTF8.GetBytes($"{label}/{Path.GetFileName(file)}:{FileDigest.Sha256Hex(file)}\n"));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void CopyFolderAtomically(string source, string destination)
    {
        var temp = destination + $".tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, Path.Combine(temp, Path.GetFileName(file)));
        if (Directory.Exists(destination)) Directory.Delete(destination, recursive: true);
        Directory.Move(temp, destination);
    }
}
