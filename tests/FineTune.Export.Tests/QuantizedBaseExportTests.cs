using FineTune.Contracts.Quantization;
using FineTune.Export.Gguf;
using FineTune.Export.Verification;
using FineTune.Formats.Gguf;
using FineTune.Models;
using FineTune.Models.Generation;
using FineTune.Models.Quantization;
using FineTune.Models.Tiny;
using FineTune.Models.Core.Tokenizers;
using FineTune.Training.Lora;
using FineTune.Training.Merge;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using static TorchSharp.torch;

namespace FineTune.Export.Tests;

/// <summary>
/// A LoRA adapter trained over an NF4 or int8 base merges into a plain HF folder (the base dequantized once) whose F32
/// GGUF export llama.cpp runs with the same greedy tokens as our generation on the merged folder.
/// </summary>
public sealed class QuantizedBaseExportTests : IAsyncLifetime
{
    private const int MaxTokens = 32;
    private static readonly string[] Prompts = ["Extract the product information and return it as JSON.", "<div class=\"price\">$19.99</div>"];
    private readonly TempDirectory _dir = new("qexport");
    private readonly Dictionary<string, (string Merged, LlamaCppJobResult Result)> _runs = [];

    public async Task InitializeAsync()
    {
        // The judge's initialisation (peaked logits), as FamilyParityTests use: greedy argmax must not hinge on float ties.
        var baseFolder = _dir.File("base");
        TinyModel.Write(baseFolder, seed: 41, TinyModelPreset.Nano, family: "qwen2", init: TinyModel.TinyInit.Judge);
        var jobs = new List<LlamaCppJob>();
        foreach (var kind in new[] { "nf4", "int8" })
        {
            var adapter = WriteAdapter(baseFolder, _dir.File($"adapter-{kind}"), BaseQuantization.ParseKind(kind)!.Value);
            var merged = AdapterMerger.Merge(baseFolder, adapter, _dir.File($"merged-{kind}")).Folder;
            var gguf = new HfToGgufConverter { Verify = true }.Convert(merged, _dir.File($"{kind}-f32.gguf"), GgufFileType.F32).Path;
            jobs.Add(new LlamaCppJob(gguf, Prompts, MaxTokens));
            _runs[kind] = (merged, null!);
        }
        var results = await LlamaCpp.RunAsync(jobs);
        var i = 0;
        foreach (var kind in _runs.Keys.ToList()) _runs[kind] = (_runs[kind].Merged, results[i++]);
    }

    /// <summary>A random (non-zero) adapter on every projection of the quantized base, saved as PEFT files.</summary>
    private static string WriteAdapter(string baseFolder, string folder, QuantizationKind kind)
    {
        using var model = CausalLM.Load(baseFolder);
        var adapter = LoraInjector.Inject(new CausalLMTrainable(model), new LoraOptions
        {
            Rank = 4, Alpha = 8, TargetModules = [LoraOptions.AllLinear], Quantization = new BaseQuantization { Kind = kind },
        });
        RandomLoraWeights.Fill(adapter.Layers.Values, seed: 17, bStd: 0.05);
        PeftAdapterFiles.Save(adapter, folder, new PeftAdapterMetadata(baseFolder));
        return folder;
    }

    [Theory]
    [InlineData("nf4")]
    [InlineData("int8")]
    public void LlamaCppGreedyTokensEqualOursOnTheMergedQuantizedBase(string kind)
    {
        var (merged, result) = _runs[kind];
        Assert.True(result.Ok, result.Describe());
        var tokenizer = HfTokenizer.FromFolder(merged);
        using var lm = CausalLM.Load(merged);
        var generator = new TextGenerator(lm);
        var options = new GenerationOptions { Greedy = true, MaxNewTokens = MaxTokens };
        for (var p = 0; p < Prompts.Length; p++)
        {
            var ours = generator.Generate(tokenizer.Encode(Prompts[p], addSpecialTokens: true), options).TokenIds;
            Assert.NotEmpty(ours);
            Assert.Equal(ours, result.Results![p].Generated);
        }
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
