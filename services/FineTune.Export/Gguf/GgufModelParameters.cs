// Hyper-parameters that llama.cpp needs, read from a Hugging Face config.json (LlamaForCausalLM,
// MistralForCausalLM → "llama"; Qwen2ForCausalLM → "qwen2"), and written as the {arch}.* keys
// (shared/reference/gguf-ollama.md §3–4). Types are exactly what llama.cpp's loader checks: u32 counts, f32 floats.
using System.Text.Json;

namespace FineTune.Export.Gguf;

public sealed record RopeScaling(string Type, float Factor, int? OriginalContextLength, float LowFreqFactor, float HighFreqFactor);

public sealed record GgufModelParameters(
    string Architecture,
    string HfArchitecture,
    int HiddenSize,
    int Layers,
    int IntermediateSize,
    int Heads,
    int KvHeads,
    int HeadDim,
    bool ExplicitHeadDim,
    int VocabSize,
    int ContextLength,
    float RmsNormEps,
    float RopeTheta,
    bool TieWordEmbeddings,
    RopeScaling? RopeScaling)
{
    /// <summary>Whether q/k rows are permuted for llama.cpp's consecutive-pair RoPE (llama: yes; qwen2: NEOX, no).</summary>
    public bool PermutesQk => Architecture == "llama";

    public static GgufModelParameters FromFolder(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found; an HF model folder is expected.", path);
        using var doc = HfJson.Load(path);
        return FromJson(doc.RootElement, path);
    }

    public static GgufModelParameters FromJson(JsonElement c, string file)
    {
        var hfArch = c.Prop("architectures") is { ValueKind: JsonValueKind.Array } a && a.GetArrayLength() > 0 ? a[0].GetString() ?? "" : "";
        var modelType = c.Str("model_type") ?? "";
        var arch = (hfArch, modelType) switch
        {
            ("LlamaForCausalLM", _) or ("MistralForCausalLM", _) or (_, "llama") or (_, "mistral") => "llama",
            ("Qwen2ForCausalLM", _) or (_, "qwen2") => "qwen2",
            _ => throw new NotSupportedException($"{file}: architecture '{hfArch}' (model_type '{modelType}') is not supported; expected LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM."),
        };
        var hidden = c.RequireInt("hidden_size", file);
        var heads = c.RequireInt("num_attention_heads", file);
        var headDim = c.Int("head_dim");
        if (hidden % heads != 0 && headDim is null) throw new InvalidDataException($"{file}: hidden_size {hidden} is not divisible by num_attention_heads {heads}.");
        RopeScaling? scaling = null;
        if (c.Prop("rope_scaling") is { ValueKind: JsonValueKind.Object } rs)
        {
            var type = rs.Str("rope_type") ?? rs.Str("type") ?? "none";
            if (type != "default")
            {
                scaling = new RopeScaling(type, (float)(rs.Double("factor") ?? 1.0), rs.Int("original_max_position_embeddings"),
                    (float)(rs.Double("low_freq_factor") ?? 1.0), (float)(rs.Double("high_freq_factor") ?? 4.0));
                if (type is not ("linear" or "yarn" or "llama3"))
                    throw new NotSupportedException($"{file}: rope_scaling type '{type}' is not supported (linear, yarn, llama3).");
            }
        }
        return new GgufModelParameters(
            arch, hfArch, hidden,
            c.RequireInt("num_hidden_layers", file),
            c.RequireInt("intermediate_size", file),
            heads,
            c.Int("num_key_value_heads") ?? heads,
            headDim ?? hidden / heads,
            headDim is not null,
            c.RequireInt("vocab_size", file),
            c.Int("max_position_embeddings") ?? 2048,
            (float)(c.Double("rms_norm_eps") ?? 1e-6),
            (float)(c.Double("rope_theta") ?? 10000.0),
            c.Bool("tie_word_embeddings") ?? false,
            scaling);
    }

    /// <summary>Llama 3.1-style per-frequency RoPE factors ({hd/2} floats, the rope_freqs.weight tensor).</summary>
    public float[] Llama3RopeFactors()
    {
        var s = RopeScaling ?? throw new InvalidOperationException("No rope scaling.");
        var oldContext = (double)(s.OriginalContextLength ?? 8192);
        var lowWavelen = oldContext / s.LowFreqFactor;
        var highWavelen = oldContext / s.HighFreqFactor;
        var factors = new float[HeadDim / 2];
        for (var i = 0; i < factors.Length; i++)
        {
            var freq = 1.0 / Math.Pow(RopeTheta, 2.0 * i / HeadDim);
            var wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) factors[i] = 1;
            else if (wavelen > lowWavelen) factors[i] = s.Factor;
            else
            {
                var smooth = (oldContext / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }
}
