// Hyper-parameters that llama.cpp needs, mapped from the model's ModelConfig (config.json; LlamaForCausalLM,
// MistralForCausalLM → "llama"; Qwen2ForCausalLM → "qwen2"; Qwen3ForCausalLM → "qwen3"; Gemma3ForCausalLM → "gemma3";
// Phi3ForCausalLM → "phi3"), and written as the {arch}.* keys (shared/reference/gguf-ollama.md §3–4; llama.cpp's
// src/models/<arch>.cpp for what each loader reads). Types are exactly what llama.cpp's loader checks: u32 counts, f32 floats.
// What llama.cpp cannot represent is either folded into the weights (Gemma's query_pre_attn_scalar → q_norm) or
// reported as a warning (a sliding window on an architecture whose llama.cpp graph has none).
using FineTune.Models.Core;

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
    /// <summary>Whether q/k rows are permuted for llama.cpp's consecutive-pair RoPE (llama: yes; the others are NEOX: no).</summary>
    public bool PermutesQk => Architecture == "llama";

    /// <summary>Gemma 3: the window and which layers use it (the others attend to everything).</summary>
    public int? SlidingWindow { get; init; }
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    /// <summary>Gemma 3's RoPE base of sliding layers (rope.freq_base_swa).</summary>
    public float? RopeLocalTheta { get; init; }

    public float? FinalLogitSoftcapping { get; init; }

    /// <summary>Gemma stores norms as w and applies 1 + w; llama.cpp multiplies by the stored weight, so the export adds 1.</summary>
    public bool UnitOffsetNorms { get; init; }

    /// <summary>
    /// Factor for attn_q_norm so llama.cpp's fixed query scale (1/√head_dim, or 1/√(hidden/heads) for the 62-layer
    /// Gemma 3 27B) equals query_pre_attn_scalar^-½: q_norm is linear in its weight and precedes RoPE, so the product
    /// is exact. 1 when they already agree (every released Gemma 3).
    /// </summary>
    public float QueryNormFactor { get; init; } = 1;

    /// <summary>Phi-3 LongRoPE: per-frequency divisors and the cos/sin factor.</summary>
    public float[]? LongRopeShort { get; init; }
    public float[]? LongRopeLong { get; init; }
    public float? RopeAttentionFactor { get; init; }
    public int? OriginalContextLength { get; init; }

    /// <summary>What the GGUF will do differently from the Hugging Face model, one line each.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    public static GgufModelParameters FromFolder(string folder) => From(ModelConfig.FromFolder(folder), Path.Combine(folder, "config.json"));

    /// <summary>Maps the model's config onto what llama.cpp's llama/qwen2 loaders read.</summary>
    public static GgufModelParameters From(ModelConfig c, string file)
    {
        var arch = c.Architecture switch
        {
            "LlamaForCausalLM" or "MistralForCausalLM" => "llama",
            "Qwen2ForCausalLM" => "qwen2",
            "Qwen3ForCausalLM" => "qwen3",
            "Gemma3ForCausalLM" => "gemma3",
            "Phi3ForCausalLM" => "phi3",
            _ => throw new NotSupportedException($"{file}: architecture '{c.Architecture}' has no GGUF export; expected one of LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM."),
        };
        GgufRopeScaling? scaling = null;
        if (c.RopeScaling is { } rs && rs.Type != "longrope")
        {
            if (rs.Type is not ("linear" or "llama3"))
                throw new NotSupportedException($"{file}: rope_scaling '{rs.Type}' has no llama.cpp equivalent (linear, yarn, llama3, longrope do).");
            if (arch != "llama" && rs.Type == "llama3")
                throw new NotSupportedException($"{file}: rope_scaling 'llama3' is exported for the llama architecture only.");
            scaling = new GgufRopeScaling(rs.Type, (float)rs.Factor, rs.OriginalMaxPositionEmbeddings, (float)rs.LowFreqFactor, (float)rs.HighFreqFactor);
        }
        var defaultHeadDim = c.HiddenSize % c.NumAttentionHeads == 0 ? c.HiddenSize / c.NumAttentionHeads : -1;
        return new GgufModelParameters(arch, c.Architecture, c.HiddenSize, c.NumHiddenLayers, c.IntermediateSize,
            c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim, c.HeadDim != defaultHeadDim || arch is "gemma3" or "qwen3", c.VocabSize,
            c.MaxPositionEmbeddings, (float)c.RmsNormEps, (float)c.RopeTheta, c.TieWordEmbeddings, scaling)
        {
            SlidingWindow = arch == "gemma3" ? c.SlidingWindow : null,
            SlidingLayers = arch == "gemma3" && c.SlidingWindow is not null ? [.. Enumerable.Range(0, c.NumHiddenLayers).Select(c.IsSlidingLayer)] : null,
            RopeLocalTheta = c.RopeLocalTheta is { } local ? (float)local : null,
            FinalLogitSoftcapping = c.FinalLogitSoftcapping is { } cap ? (float)cap : null,
            UnitOffsetNorms = c.Gemma,
            QueryNormFactor = c.QueryPreAttnScalar is { } qpas ? GemmaQueryNormFactor(c, qpas) : 1,
            LongRopeShort = c.RopeScaling is { Type: "longrope" } lr ? [.. lr.ShortFactor!.Select(x => (float)x)] : null,
            LongRopeLong = c.RopeScaling is { Type: "longrope" } lr2 ? [.. lr2.LongFactor!.Select(x => (float)x)] : null,
            RopeAttentionFactor = c.RopeScaling is { Type: "longrope" } ? (float)RopeFrequencies.AttentionFactor(c) : null,
            OriginalContextLength = c.RopeScaling is { Type: "longrope" } ? RopeFrequencies.LongRopeOriginalContext(c) : null,
            Warnings = Warn(c, arch),
        };
    }

    private static float GemmaQueryNormFactor(ModelConfig c, double queryPreAttnScalar)
    {
        var llamaCppScale = c.NumHiddenLayers == 62 ? 1 / Math.Sqrt((double)c.HiddenSize / c.NumAttentionHeads) : 1 / Math.Sqrt(c.HeadDim);
        return (float)(1 / Math.Sqrt(queryPreAttnScalar) / llamaCppScale);
    }

    private static List<string> Warn(ModelConfig c, string arch)
    {
        var warnings = new List<string>();
        if (c.SlidingWindow is { } w && arch is "llama" or "phi3" && w < c.MaxPositionEmbeddings)
            warnings.Add($"{c.Architecture} attends within a sliding window of {w} tokens, but llama.cpp's {arch} graph attends to the " +
                $"whole context: outputs agree up to {w} tokens and may differ beyond");
        return warnings;
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
