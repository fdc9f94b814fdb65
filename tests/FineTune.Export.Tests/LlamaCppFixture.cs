using System.Diagnostics;
using FineTune.Export.Gguf;
using FineTune.Export.Verification;
using FineTune.Formats.Gguf;
using FineTune.Models.Core.ChatTemplates;

namespace FineTune.Export.Tests;

/// <summary>
/// Exports tiny qwen2 and llama models (and a LoRA adapter) in every file type once, then runs all of them through
/// real llama.cpp in one engine process. Tests read the results by job name.
/// </summary>
public sealed class LlamaCppFixture : IAsyncLifetime
{
    public const int MaxTokens = 12;

    public static readonly string[] Prompts =
    [
        "hello the world",
        "<|im_start|>user\nhello, is it on?<|im_end|>\n<|im_start|>assistant\n",
        "Ünïcode ✓ and 1234 numbers\n\n  spaced",
    ];

    private readonly TempDirectory _dir = new("llamacpp");
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Dictionary<string, LlamaCppJobResult> _results = [];

    public static readonly TinyHfModel.Spec Qwen = new("qwen2", QkvBias: true, Seed: 11);
    public static readonly TinyHfModel.Spec QwenNoBias = new("qwen2", QkvBias: false, Seed: 12);
    public static readonly TinyHfModel.Spec Llama = QwenNoBias with { Architecture = "llama" };
    public static readonly TinyHfModel.Spec Qwen256 = new("qwen2", Hidden: 256, Heads: 4, KvHeads: 2, Intermediate: 512, Layers: 3, Tied: true, Seed: 13, DType: Formats.Safetensors.SafetensorDType.BF16);
    public static readonly TinyHfModel.Spec TtQwen = new("qwen2", VocabRows: 672, Seed: 31, TinyTokenizer: true, WeightScale: 0.1f);
    public static readonly TinyHfModel.Spec TtLlama = new("llama", VocabRows: 672, Seed: 32, TinyTokenizer: true, Tied: true, QkvBias: false, WeightScale: 0.1f);

    /// <summary>Prompts for the tiny-tokenizer models: plain text and ChatML conversations rendered by the model's template.</summary>
    public IReadOnlyList<string> ParityPrompts { get; private set; } = [];

    public const int LoraRank = 4;
    public const float LoraAlpha = 8;

    /// <summary>FT_EXPORT_TEST_KEEP=dir keeps the exported files there for inspection.</summary>
    public string Root { get; }

    public LlamaCppFixture() =>
        Root = Environment.GetEnvironmentVariable("FT_EXPORT_TEST_KEEP") is { Length: > 0 } keep ? Directory.CreateDirectory(keep).FullName : _dir.Path;
    public Dictionary<string, string> HfFolders { get; } = [];
    public Dictionary<string, string> Ggufs { get; } = [];
    public Dictionary<string, GgufExportResult> Exports { get; } = [];

    public LlamaCppJobResult this[string job] => _results[job];

    public IEnumerable<string> JobNames => _results.Keys;
    public double ExportSeconds { get; private set; }
    public double EngineSeconds { get; private set; }

    public async Task InitializeAsync()
    {
        HfFolders["qwen"] = TinyHfModel.Write(Path.Combine(Root, "qwen"), Qwen);
        HfFolders["qwen-nobias"] = TinyHfModel.Write(Path.Combine(Root, "qwen-nobias"), QwenNoBias);
        HfFolders["llama"] = TinyHfModel.Write(Path.Combine(Root, "llama"), Llama);
        HfFolders["qwen256"] = TinyHfModel.Write(Path.Combine(Root, "qwen256"), Qwen256);
        HfFolders["tt-qwen"] = TinyHfModel.Write(Path.Combine(Root, "tt-qwen"), TtQwen);
        HfFolders["tt-llama"] = TinyHfModel.Write(Path.Combine(Root, "tt-llama"), TtLlama);
        var template = ChatTemplate.FromFolder(HfFolders["tt-qwen"]);
        ParityPrompts =
        [
            "Extract the product information from the HTML below and return it as JSON.",
            "<div class=\"product\"><h2 class=\"title\">Wireless Mouse</h2><span class=\"price\">$19.99</span></div>",
            template.Render([new ChatMessage("user", "What is the price of the mouse?")], addGenerationPrompt: true),
            template.Render([new ChatMessage("system", "You are a helpful assistant."), new ChatMessage("user", "Ünïcode ✓, 12345 and  two  spaces\n\nnew lines")], addGenerationPrompt: true),
        ];

        var converter = new HfToGgufConverter { Verify = true };
        void Export(string model, GgufFileType type)
        {
            var key = $"{model}-{type.Name}";
            Exports[key] = converter.Convert(HfFolders[model], Path.Combine(Root, key + ".gguf"), type);
            Ggufs[key] = Exports[key].Path;
        }
        foreach (var t in new[] { GgufFileType.F32, GgufFileType.F16, GgufFileType.BF16, GgufFileType.Q8_0, GgufFileType.Q4_0, GgufFileType.Q4_K_M })
            Export("qwen", t);
        Export("qwen-nobias", GgufFileType.F32);
        Export("llama", GgufFileType.F32);
        Export("llama", GgufFileType.F16);
        Export("qwen256", GgufFileType.F16);
        Export("qwen256", GgufFileType.Q4_K_M);
        Export("qwen256", GgufFileType.Q8_0);
        foreach (var t in new[] { GgufFileType.F32, GgufFileType.F16 })
        {
            Export("tt-qwen", t);
            Export("tt-llama", t);
        }

        // LoRA: the same random adapter on qwen2 and on the llama twin; merged references for both.
        var scaling = LoraAlpha / LoraRank;
        foreach (var (model, spec) in new[] { ("qwen", Qwen), ("qwen-nobias", QwenNoBias), ("llama", Llama) })
        {
            var adapter = TinyPeftAdapter.Write(Path.Combine(Root, $"{model}-adapter"), spec, LoraRank, LoraAlpha, seed: 21);
            Ggufs[$"{model}-lora"] = PeftToGgufLoraConverter.Convert(adapter, HfFolders[model], Path.Combine(Root, $"{model}-lora.gguf")).Path;
            HfFolders[$"{model}-merged"] = TinyPeftAdapter.Merge(HfFolders[model], adapter, Path.Combine(Root, $"{model}-merged"), scaling);
            Export($"{model}-merged", GgufFileType.F32);
        }

        var jobs = new List<(string Name, LlamaCppJob Job)>();
        foreach (var (key, path) in Ggufs.Where(g => !g.Key.EndsWith("-lora")))
            jobs.Add((key, new LlamaCppJob(path, key.StartsWith("tt-") ? ParityPrompts : Prompts, MaxTokens)));
        foreach (var model in new[] { "qwen", "qwen-nobias", "llama" })
            jobs.Add(($"{model}-f32+lora", new LlamaCppJob(Ggufs[$"{model}-f32"], Prompts, MaxTokens, [new LlamaCppAdapter(Ggufs[$"{model}-lora"])])));
        ExportSeconds = _clock.Elapsed.TotalSeconds;
        if (Environment.GetEnvironmentVariable("FT_EXPORT_TEST_KEEP") is { Length: > 0 })
            File.WriteAllText(Path.Combine(Root, "jobs.json"), System.Text.Json.JsonSerializer.Serialize(new { jobs = jobs.Select(j => j.Job) }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        var results = await LlamaCpp.RunAsync(jobs.Select(j => j.Job).ToList());
        EngineSeconds = _clock.Elapsed.TotalSeconds - ExportSeconds;
        for (var i = 0; i < jobs.Count; i++) _results[jobs[i].Name] = results[i];
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }
}
