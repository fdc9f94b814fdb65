// PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors) → GGUF LoRA adapter for `llama.cpp --lora` and
// Ollama's ADAPTER (shared/reference/gguf-ollama.md §5, finetune.md §3):
// - general.type "adapter", general.architecture = the base's, adapter.type "lora", adapter.lora.alpha (FLOAT32);
// - "<base gguf name>.lora_a" = PEFT lora_A [r, in] as is (ne {in, r}); ".lora_b" = lora_B [out, r] (ne {r, out});
// - llama q/k: lora_b rows get the same per-head permutation as the base weight; lora_a is unchanged;
// - llama.cpp scales by alpha/r, so rsLoRA (alpha/√r) is written as alpha·√r, which gives the same scale;
// - anything llama.cpp cannot apply (DoRA magnitudes, embedding adapters, lora biases, modules_to_save copies such as
//   lm_head) is rejected with the tensor's name rather than silently dropped.
using System.Text.Json;
using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;
using FineTune.Formats.Safetensors;

namespace FineTune.Export.Gguf;

public sealed record GgufLoraResult(string Path, float Alpha, int Pairs, long OutputBytes);

public static class PeftToGgufLoraConverter
{
    public const string AdapterConfigFile = "adapter_config.json";
    public const string AdapterWeightsFile = "adapter_model.safetensors";

    public static GgufLoraResult Convert(string adapterFolder, string baseModelFolder, string outputPath, GgmlType type = GgmlType.F32)
    {
        if (type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0))
            throw new ArgumentException($"GGUF LoRA tensors are F32, F16, BF16 or Q8_0, not {type}.");
        var p = GgufModelParameters.FromFolder(baseModelFolder);
        var alpha = ReadAlpha(adapterFolder);

        var weightsPath = Path.Combine(adapterFolder, AdapterWeightsFile);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{weightsPath}: PEFT adapter weights not found.", weightsPath);
        using var file = SafetensorsFile.Open(weightsPath);
        var plan = Plan(PairByModule(file, weightsPath), p, weightsPath);

        using var w = new GgufWriter(outputPath, p.Architecture);
        w.AddType("adapter");
        w.AddAdapterType("lora");
        w.AddLoraAlpha(alpha);
        GgmlType TypeFor(long rowLength) => rowLength % GgmlTypeInfo.Of(type).BlockElements == 0 ? type : GgmlType.F32;
        foreach (var (gguf, _, a, b) in plan)
        {
            w.AddTensorInfo(gguf + ".lora_a", a.Shape, TypeFor(a.Shape[1]));
            w.AddTensorInfo(gguf + ".lora_b", b.Shape, TypeFor(b.Shape[1]));
        }
        w.WriteHeader();
        foreach (var (gguf, _, a, b) in plan)
        {
            var aData = HfTensorData.ToFloat32(a.DType, file.GetSpan(a.Name), $"{weightsPath}: '{a.Name}'");
            w.WriteTensorData(gguf + ".lora_a", GgmlQuantizer.Quantize(TypeFor(a.Shape[1]), aData));
            var bData = HfTensorData.ToFloat32(b.DType, file.GetSpan(b.Name), $"{weightsPath}: '{b.Name}'");
            if (p.PermutesQk && (gguf.EndsWith(".attn_q.weight", StringComparison.Ordinal) || gguf.EndsWith(".attn_k.weight", StringComparison.Ordinal)))
                LlamaQkPermutation.Apply(bData, b.Shape[0], b.Shape[1], gguf.EndsWith(".attn_q.weight", StringComparison.Ordinal) ? p.Heads : p.KvHeads);
            w.WriteTensorData(gguf + ".lora_b", GgmlQuantizer.Quantize(TypeFor(b.Shape[1]), bData));
        }
        w.Commit();
        return new GgufLoraResult(Path.GetFullPath(outputPath), alpha, plan.Count, new FileInfo(outputPath).Length);
    }

    /// <summary>adapter.lora.alpha from adapter_config.json (rsLoRA folded in), rejecting what a GGUF adapter cannot carry.</summary>
    private static float ReadAlpha(string adapterFolder)
    {
        var configPath = Path.Combine(adapterFolder, AdapterConfigFile);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"{configPath}: PEFT adapter config not found.", configPath);
        using var doc = HfJson.Load(configPath);
        var cfg = doc.RootElement;
        var peftType = cfg.Str("peft_type") ?? "LORA";
        if (peftType != "LORA") throw new NotSupportedException($"{configPath}: peft_type '{peftType}' cannot become a GGUF LoRA adapter.");
        if (cfg.Bool("use_dora") == true) throw new NotSupportedException($"{configPath}: use_dora is set; llama.cpp has no DoRA support. Merge the adapter and export the merged model instead.");
        if (cfg.Prop("alpha_pattern") is { ValueKind: JsonValueKind.Object } ap && ap.EnumerateObject().Any())
            throw new NotSupportedException($"{configPath}: alpha_pattern gives modules different alphas; a GGUF adapter has one adapter.lora.alpha.");
        var r = cfg.RequireInt("r", configPath);
        var loraAlpha = (float)(cfg.Double("lora_alpha") ?? r);
        return cfg.Bool("use_rslora") == true ? loraAlpha * MathF.Sqrt(r) : loraAlpha;
    }

    /// <summary>The adapter's tensors as module path → (lora_A, lora_B); anything else is rejected.</summary>
    private static SortedDictionary<string, (SafetensorInfo? A, SafetensorInfo? B)> PairByModule(SafetensorsFile file, string weightsPath)
    {
        var pairs = new SortedDictionary<string, (SafetensorInfo? A, SafetensorInfo? B)>(StringComparer.Ordinal);
        foreach (var t in file.Tensors)
        {
            var name = t.Name.StartsWith("base_model.model.", StringComparison.Ordinal) ? t.Name["base_model.model.".Length..] : t.Name;
            name = name.Replace(".lora_A.default.", ".lora_A.", StringComparison.Ordinal).Replace(".lora_B.default.", ".lora_B.", StringComparison.Ordinal);
            string module;
            bool isA;
            if (name.EndsWith(".lora_A.weight", StringComparison.Ordinal)) { module = name[..^".lora_A.weight".Length]; isA = true; }
            else if (name.EndsWith(".lora_B.weight", StringComparison.Ordinal)) { module = name[..^".lora_B.weight".Length]; isA = false; }
            else throw new NotSupportedException($"{weightsPath}: tensor '{t.Name}' is not a LoRA A/B matrix; llama.cpp adapters carry only lora_a/lora_b (merge the adapter to keep it).");
            pairs.TryGetValue(module, out var pair);
            pairs[module] = isA ? (t, pair.B) : (pair.A, t);
        }
        if (pairs.Count == 0) throw new InvalidDataException($"{weightsPath}: no LoRA tensors.");
        return pairs;
    }

    /// <summary>Each complete pair with its GGUF tensor name, shapes checked to chain, in llama.cpp's tensor order.</summary>
    private static List<(string Gguf, string Module, SafetensorInfo A, SafetensorInfo B)> Plan(
        SortedDictionary<string, (SafetensorInfo? A, SafetensorInfo? B)> pairs, GgufModelParameters p, string weightsPath)
    {
        var plan = new List<(string Gguf, string Module, SafetensorInfo A, SafetensorInfo B)>();
        foreach (var (module, (a, b)) in pairs)
        {
            if (a is null || b is null) throw new InvalidDataException($"{weightsPath}: module '{module}' has lora_{(a is null ? "A" : "B")} missing.");
            var gguf = GgufTensorNames.TryMapModule(module, p.Architecture)
                ?? throw new NotSupportedException($"{weightsPath}: LoRA target '{module}' has no GGUF tensor in a {p.Architecture} model.");
            if (gguf == GgufTensorNames.TokenEmbedding) throw new NotSupportedException($"{weightsPath}: embedding adapters ('{module}') are not exported to GGUF; merge instead.");
            if (a.Shape.Length != 2 || b.Shape.Length != 2 || a.Shape[0] != b.Shape[1])
                throw new InvalidDataException($"{weightsPath}: '{module}' has lora_A [{string.Join(", ", a.Shape)}] and lora_B [{string.Join(", ", b.Shape)}], which do not chain.");
            plan.Add((gguf, module, a, b));
        }
        plan.Sort((x, y) => QuantizationPlan.CompareWeightNames(x.Gguf, y.Gguf));
        return plan;
    }
}
