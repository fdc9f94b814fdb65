// Hyper-parameters that llama.cpp needs, mapped from the model's ModelConfig (config.json; LlamaForCausalLM,
// MistralForCausalLM → "llama"; Qwen2ForCausalLM → "qwen2"), and written as the {arch}.* keys
// (shared/reference/gguf-ollama.md §3–4). Types are exactly what llama.cpp's loader checks: u32 counts, f32 floats.
using FineTune.Models;

namespace FineTune.Export.Gguf;

public sealed record GgufRopeScaling(string Type, float Factor, int? OriginalContextLength, float LowFreqFactor, float HighFreqFactor);

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
    GgufRopeScaling? RopeScaling)
{
    /// <summary>Whether q/k rows are permuted for llama.cpp's consecutive-pair RoPE (llama: yes; qwen2: NEOX, no).</summary>
    public bool PermutesQk => Architecture == "llama";

    public static GgufModelParameters FromFolder(string folder) => From(ModelConfig.FromFolder(folder), Path.Combine(folder, "config.json"));

    /// <summary>Maps the model's config onto what llama.cpp's llama/qwen2 loaders read.</summary>
    public static GgufModelParameters From(ModelConfig c, string file)
    {
        var arch = c.Architecture switch
        {
            "LlamaForCausalLM" or "MistralForCausalLM" => "llama",
            "Qwen2ForCausalLM" => "qwen2",
            _ => throw new NotSupportedException($"{file}: architecture '{c.Architecture}' has no GGUF export; expected LlamaForCausalLM, MistralForCausalLM or Qwen2ForCausalLM."),
        };
        GgufRopeScaling? scaling = null;
        if (c.RopeScaling is { } rs)
        {
            if (rs.Type is not ("linear" or "llama3"))
                throw new NotSupportedException($"{file}: rope_scaling '{rs.Type}' has no llama.cpp equivalent (linear, yarn, llama3 do).");
            scaling = new GgufRopeScaling(rs.Type, (float)rs.Factor, rs.OriginalMaxPositionEmbeddings, (float)rs.LowFreqFactor, (float)rs.HighFreqFactor);
        }
        var defaultHeadDim = c.HiddenSize % c.NumAttentionHeads == 0 ? c.HiddenSize / c.NumAttentionHeads : -1;
        return new GgufModelParameters(arch, c.Architecture, c.HiddenSize, c.NumHiddenLayers, c.IntermediateSize,
            c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.HeadDim != defaultHeadDim, c.VocabSize,
            c.MaxPositionEmbeddings, (float)c.RmsNormEps, (float)c.RopeTheta, c.TieWordEmbeddings, scaling);
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
