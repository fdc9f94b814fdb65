using FineTune.Export.Gguf;
using FineTune.Export.Ollama;
using FineTune.Formats.Gguf;
using FineTune.Formats.Safetensors;
using FineTune.Models.Tiny;
using FineTune.Training.Merge;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTune.Export.Tests;

public sealed class ExportJobTests : IDisposable
{
    private readonly TempDirectory _dir = new("exportjob");

    /// <summary>What `ft export` passes: the CLI has TorchSharp and merges; the export worker passes none.</summary>
    private static readonly AdapterMerge Merge = (baseFolder, adapter, output) => AdapterMerger.Merge(baseFolder, adapter, output);

    public void Dispose() => _dir.Dispose();

    private (string Base, string Adapter) Inputs()
    {
        // The product's tiny model (nano: 64 wide, so the adapter's A is 4×64), as `ft init-tiny` writes it.
        var baseFolder = _dir.File("base");
        TinyModel.Write(baseFolder, seed: 41, TinyModelPreset.Nano, family: "qwen2");
        var adapter = TinyPeftAdapter.Write(_dir.File("adapter-in"), baseFolder, r: 4, alpha: 8);
        return (baseFolder, adapter);
    }

    private ExportRequest Request(string baseFolder, string adapter, string output, string? system = "Answer in JSON.") => new()
    {
        BaseModel = baseFolder,
        Adapter = adapter,
        OutputFolder = output,
        GgufType = GgufFileType.Q8_0,
        ModelName = "shop-extractor",
        System = system,
        Parameters = new OllamaParameters(0.2, 0.9, 2048),
    };

    [Fact]
    public async Task AJobsArtifactsHoldThePeftAdapterMergedFolderGgufGgufAdapterAndModelfiles()
    {
        var (baseFolder, adapter) = Inputs();
        var output = _dir.File("artifacts");
        var outcome = await new ExportJob(NullLogger.Instance, merge: Merge).RunAsync(Request(baseFolder, adapter, output));

        Assert.False(outcome.Skipped);
        Assert.True(File.Exists(Path.Combine(output, "adapter", "adapter_model.safetensors")));
        Assert.True(File.Exists(Path.Combine(output, "merged", "config.json")));
        Assert.True(File.Exists(Path.Combine(output, "merged", "tokenizer.json")));
        using (var gguf = GgufReader.Open(Path.Combine(output, "model-q8_0.gguf")))
            Assert.Equal(GgmlType.Q8_0, gguf.Tensor("blk.0.attn_q.weight").Type);
        using (var lora = GgufReader.Open(Path.Combine(output, "adapter.gguf")))
        {
            Assert.Equal("adapter", lora.Get("general.type")!.AsString());
            Assert.Equal("lora", lora.Get("adapter.type")!.AsString());
            Assert.Equal(8f, lora.Get("adapter.lora.alpha")!.AsFloat32());
            Assert.Equal([64L, 4L], lora.Tensor("blk.0.attn_q.weight.lora_a").Ne);
            Assert.Equal([4L, 64L], lora.Tensor("blk.0.attn_q.weight.lora_b").Ne);
        }
        var modelfile = File.ReadAllText(Path.Combine(output, "Modelfile"));
        Assert.Contains("FROM ./model-q8_0.gguf", modelfile);
        Assert.Contains("PARAMETER stop \"<|im_end|>\"", modelfile);
        Assert.Contains("SYSTEM \"\"\"Answer in JSON.\"\"\"", modelfile);
        var adapterModelfile = File.ReadAllText(Path.Combine(output, "Modelfile.adapter"));
        Assert.Contains("ADAPTER ./adapter.gguf", adapterModelfile);                       // qwen2: Ollama needs the GGUF form
        Assert.Equal(AdapterForms.Gguf, outcome.Manifest.AdapterForm);
        Assert.Equal("Skipped", outcome.Manifest.Registration);
        Assert.Contains("ollama create shop-extractor -f Modelfile", outcome.Manifest.RegistrationNote);
        Assert.Equal(["peft-adapter", "merged", "gguf-adapter", "gguf", "modelfile", "modelfile-adapter"], outcome.Manifest.Artifacts.Select(a => a.Kind));
        Assert.Equal(FileDigest.Sha256Hex(Path.Combine(output, "model-q8_0.gguf")), outcome.Manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256);
        Assert.Empty(Directory.GetFileSystemEntries(output, "*.tmp-*"));
    }

    [Fact]
    public async Task TheMergedFolderEqualsBasePlusScaledBTimesA()
    {
        var (baseFolder, adapter) = Inputs();
        var output = _dir.File("artifacts");
        await new ExportJob(NullLogger.Instance, merge: Merge).RunAsync(Request(baseFolder, adapter, output));
        var reference = TinyPeftAdapter.Merge(baseFolder, adapter, _dir.File("reference"), 8f / 4);
        using var ours = SafetensorsCheckpoint.Open(Path.Combine(output, "merged"));
        using var theirs = SafetensorsCheckpoint.Open(reference);
        foreach (var name in theirs.Names)
        {
            var a = HfTensorData.ReadFloat32(ours, name);
            var b = HfTensorData.ReadFloat32(theirs, name);
            for (var i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f + 1e-5f * Math.Abs(b[i]), $"{name}[{i}]: {a[i]} vs {b[i]}");
        }
    }

    [Fact]
    public async Task SameInputsAreSkippedWithIdenticalHashesAndChangedInputsAreExportedAgain()
    {
        var (baseFolder, adapter) = Inputs();
        var output = _dir.File("artifacts");
        var job = new ExportJob(NullLogger.Instance, merge: Merge);
        var first = await job.RunAsync(Request(baseFolder, adapter, output));
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(output, "model-q8_0.gguf"));
        var second = await job.RunAsync(Request(baseFolder, adapter, output));
        Assert.True(second.Skipped);
        Assert.Equal(first.Manifest.Artifacts, second.Manifest.Artifacts);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(output, "model-q8_0.gguf")));

        var third = await job.RunAsync(Request(baseFolder, adapter, output, system: "Answer in YAML."));
        Assert.False(third.Skipped);
        Assert.NotEqual(first.Manifest.InputHash, third.Manifest.InputHash);
        Assert.Equal(first.Manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256, third.Manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256);  // deterministic GGUF

        File.AppendAllText(Path.Combine(output, "Modelfile"), "# tampered\n");
        Assert.False((await job.RunAsync(Request(baseFolder, adapter, output, system: "Answer in YAML."))).Skipped);
    }

    [Fact]
    public async Task ExportRegistersTheGgufInOllamaAndRecordsTheEvaluation()
    {
        var (baseFolder, adapter) = Inputs();
        await using var stub = await OllamaStub.StartAsync();
        using var http = new HttpClient { BaseAddress = stub.Endpoint };
        var job = new ExportJob(NullLogger.Instance, new OllamaRegistration(http, NullLogger.Instance), merge: Merge);
        var outcome = await job.RunAsync(Request(baseFolder, adapter, _dir.File("artifacts")) with { EvaluationPrompts = ["Price?"] });
        Assert.Equal("Registered", outcome.Manifest.Registration);
        Assert.NotNull(stub.Model("shop-extractor"));
        Assert.Equal("stub reply to: Price?", outcome.Manifest.Evaluations!.Single().Response);
    }

    [Fact]
    public async Task TheTrainersMergedFolderIsConvertedAsItIsWithoutMergingAgain()
    {
        var (baseFolder, adapter) = Inputs();
        var output = _dir.File("artifacts");
        var merged = AdapterMerger.Merge(baseFolder, adapter, Path.Combine(output, ExportJob.MergedFolder)).Folder;   // as the trainer does
        var weights = Directory.GetFiles(merged, "*.safetensors").Single();
        var stamp = File.GetLastWriteTimeUtc(weights);

        var outcome = await new ExportJob(NullLogger.Instance).RunAsync(Request(baseFolder, adapter, output) with { Merged = merged });

        Assert.Equal(stamp, File.GetLastWriteTimeUtc(weights));
        Assert.Equal(["peft-adapter", "merged", "gguf-adapter", "gguf", "modelfile", "modelfile-adapter"], outcome.Manifest.Artifacts.Select(a => a.Kind));
        var reference = await new ExportJob(NullLogger.Instance, merge: Merge).RunAsync(Request(baseFolder, adapter, _dir.File("merged-here")));
        Assert.Equal(reference.Manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256, outcome.Manifest.Artifacts.Single(a => a.Kind == "gguf").Sha256);
    }

    [Fact]
    public async Task AMergedFolderElsewhereIsCopiedIntoTheArtifacts()
    {
        var (baseFolder, adapter) = Inputs();
        var merged = AdapterMerger.Merge(baseFolder, adapter, _dir.File("trainer-merged")).Folder;
        var output = _dir.File("artifacts");
        var outcome = await new ExportJob(NullLogger.Instance).RunAsync(Request(baseFolder, adapter, output) with { Merged = merged });
        Assert.False(outcome.Skipped);
        foreach (var file in Directory.GetFiles(merged))
            Assert.Equal(FileDigest.Sha256Hex(file), FileDigest.Sha256Hex(Path.Combine(output, ExportJob.MergedFolder, Path.GetFileName(file))));
    }

    [Fact]
    public async Task AnAdapterWithoutItsMergedModelIsRefusedWhereTheJobCannotMerge()
    {
        var (baseFolder, adapter) = Inputs();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => new ExportJob(NullLogger.Instance).RunAsync(Request(baseFolder, adapter, _dir.File("artifacts"))));
        Assert.Contains("artifacts/merged", e.Message);
        var missing = await Assert.ThrowsAsync<DirectoryNotFoundException>(() =>
            new ExportJob(NullLogger.Instance).RunAsync(Request(baseFolder, adapter, _dir.File("artifacts")) with { Merged = _dir.File("nowhere") }));
        Assert.Contains("nowhere", missing.Message);
    }
}
