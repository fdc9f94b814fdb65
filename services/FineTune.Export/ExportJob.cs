// The export of one job, the same code for Export.Worker and `ft export`:
//   adapter/ (the PEFT adapter, copied) → merged/ (base + adapter, AdapterMerger) → model-<type>.gguf (HfToGgufConverter)
//   → adapter.gguf (PeftToGgufLoraConverter) → Modelfile (+ Modelfile.adapter) → optional llama.cpp verification
//   → optional Ollama registration → export.json (artifact hashes).
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
using FineTune.Models.ChatTemplates;
using FineTune.Models.Tokenizers;
using FineTune.Training.Merge;
using FineTune.Training.Peft;
using Microsoft.Extensions.Logging;

namespace FineTune.Export;

public sealed record ExportOutcome(bool Skipped, ExportManifest Manifest, string Folder);

public sealed class ExportJob(ILogger logger, OllamaRegistration? ollama = null, LlamaCppRunner? llamaCpp = null)
{
    public const string TelemetryName = "FineTune.Export";
    public static readonly ActivitySource Activity = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Histogram<double> StageSeconds = Meter.CreateHistogram<double>("ft.export.stage.duration", "s", "Duration of export stages");
    private static readonly Counter<long> BytesIn = Meter.CreateCounter<long>("ft.export.gguf.input_bytes", "By", "Weight bytes converted to GGUF");
    private static readonly Counter<long> Exports = Meter.CreateCounter<long>("ft.export.exports", description: "Exports by outcome");

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

        var parameters = GgufModelParameters.FromFolder(request.BaseModel);
        var artifacts = new List<(string Kind, string Path)>();
        double mergeSeconds = 0;
        var sourceFolder = request.BaseModel;
        string? adapterForm = null;

        if (request.Adapter is not null)
        {
            var adapterCopy = Path.Combine(output, "adapter");
            CopyFolderAtomically(request.Adapter, adapterCopy);
            artifacts.Add(("peft-adapter", "adapter"));
            var merged = Path.Combine(output, "merged");
            if (Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
            Report("merging adapter into the base model");
            var sw = Stopwatch.StartNew();
            using (Activity.StartActivity("export.merge"))
                AdapterMerger.Merge(request.BaseModel, request.Adapter, merged);
            mergeSeconds = sw.Elapsed.TotalSeconds;
            StageSeconds.Record(mergeSeconds, new KeyValuePair<string, object?>("stage", "merge"));
            artifacts.Add(("merged", "merged"));
            sourceFolder = merged;

            var fullModules = PeftAdapterFiles.ReadConfig(request.Adapter).Options.ModulesToSave;
            if (fullModules.Count > 0)
            {
                // llama.cpp (and Ollama's ADAPTER) adapters carry lora_a/lora_b pairs only; modules trained in full live in the merged model.
                Report($"no GGUF LoRA adapter: the adapter trains {string.Join(", ", fullModules)} in full (modules_to_save), which llama.cpp adapters cannot carry; the merged GGUF has them");
            }
            else
            {
                Report("writing the GGUF LoRA adapter");
                using (Activity.StartActivity("export.gguf_adapter"))
                    PeftToGgufLoraConverter.Convert(request.Adapter, request.BaseModel, Path.Combine(output, "adapter.gguf"));
                artifacts.Add(("gguf-adapter", "adapter.gguf"));
                adapterForm = AdapterForms.ForOllama(parameters.HfArchitecture);
            }
        }

        var ggufName = $"model-{request.GgufType.Name}.gguf";
        Report($"converting to GGUF {request.GgufType.Name}");
        GgufExportResult gguf;
        using (Activity.StartActivity("export.gguf"))
            gguf = new HfToGgufConverter
            {
                ModelName = request.ModelName,
                Verify = true,
                Progress = new Progress<(int Done, int Total, string Tensor)>(p => { if (p.Done == p.Total || p.Done % 16 == 0) Report($"GGUF {p.Done}/{p.Total} tensors"); }),
            }.Convert(sourceFolder, Path.Combine(output, ggufName), request.GgufType);
        foreach (var warning in gguf.Warnings)
        {
            logger.LogWarning("Export: {Warning}", warning);
            Progress?.Report($"warning: {warning}");
        }
        StageSeconds.Record(gguf.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", "gguf"));
        BytesIn.Add(gguf.InputBytes);
        artifacts.Add(("gguf", ggufName));

        // Modelfiles: the merged GGUF (works everywhere), and base + adapter in the form Ollama accepts for this architecture.
        var template = ChatTemplate.FromFolder(request.BaseModel).Source;
        var tokenizer = HfTokenizer.FromFolder(request.BaseModel);
        var eosTokens = tokenizer.EosIds.Select(tokenizer.IdToToken).OfType<string>().ToList();
        var modelfile = Modelfile.Create("./" + ggufName, null, template, eosTokens, request.System, request.Parameters, request.ChatFamily);
        AtomicFile.WriteAllText(Path.Combine(output, Modelfile.FileName), modelfile.Render());
        artifacts.Add(("modelfile", Modelfile.FileName));
        if (adapterForm is not null)
        {
            var adapterModelfile = Modelfile.Create(Path.GetFullPath(request.BaseModel), adapterForm == AdapterForms.Gguf ? "./adapter.gguf" : "./adapter",
                template, eosTokens, request.System, request.Parameters, request.ChatFamily);
            AtomicFile.WriteAllText(Path.Combine(output, Modelfile.FileName + ".adapter"), adapterModelfile.Render());
            artifacts.Add(("modelfile-adapter", Modelfile.FileName + ".adapter"));
        }
        var createCommand = Modelfile.CreateCommand(request.ModelName, Modelfile.FileName);

        string? verification = null;
        if (request.Verify)
            verification = await VerifyAsync(Path.Combine(output, ggufName), request, ct);

        var hashed = artifacts.Select(a => Hash(output, a.Kind, a.Path)).ToList();
        RegistrationResult? registration = null;
        if (request.Register && ollama is not null)
        {
            Report("registering in Ollama");
            var blob = new OllamaBlob(ggufName, Path.Combine(output, ggufName), hashed.Single(a => a.Kind == "gguf").Sha256);
            registration = await ollama.RegisterAsync(new RegistrationRequest(request.ModelName, [blob], [], modelfile,
                EvaluationPrompts: request.EvaluationPrompts), ct);
        }

        var manifest = new ExportManifest
        {
            InputHash = inputHash,
            GgufType = request.GgufType.Name,
            Architecture = parameters.Architecture,
            ModelName = request.ModelName,
            Artifacts = hashed,
            AdapterForm = adapterForm,
            OllamaCreateCommand = createCommand,
            MergeSeconds = mergeSeconds,
            GgufSeconds = gguf.Elapsed.TotalSeconds,
            GgufInputMegabytesPerSecond = gguf.InputMegabytesPerSecond,
            TensorTypes = gguf.Tensors.GroupBy(t => t.Type.ToString()).ToDictionary(g => g.Key, g => g.Count()),
            Verification = verification,
            Registration = registration?.Status.ToString() ?? (ollama is null ? "Skipped" : null),
            RegistrationNote = registration?.Reason ?? (ollama is null ? $"No Ollama endpoint configured. Register by hand: {createCommand}" : null),
            Evaluations = registration?.Evaluations,
            Created = DateTimeOffset.UtcNow,
        };
        manifest.Write(output);
        Exports.Add(1, new KeyValuePair<string, object?>("outcome", "exported"));
        logger.LogInformation("Exported {Type} GGUF to {Folder} ({Bytes} bytes in {Seconds:F1}s)", request.GgufType.Name, output, gguf.OutputBytes, gguf.Elapsed.TotalSeconds);
        return new ExportOutcome(false, manifest, output);
    }

    private async Task<string> VerifyAsync(string ggufPath, ExportRequest request, CancellationToken ct)
    {
        if (llamaCpp is null || !llamaCpp.IsAvailable)
            throw new InvalidOperationException("Verification was requested but node-llama-cpp is not installed (eng/prereqs.sh).");
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
