// Hugging Face → GGUF tensor names for the llama family, qwen2, qwen3, gemma3 and phi3 (gguf-py tensor_mapping.py,
// llama-arch.cpp; shared/reference/gguf-ollama.md §3). Data plus one mapping function; no I/O. Gemma 3 renames one
// module: its post_attention_layernorm normalises the attention output (post_attention_norm), while the MLP's input
// norm is pre_feedforward_layernorm (ffn_norm).
using System.Text.RegularExpressions;

namespace FineTune.Formats.Gguf;

public static partial class GgufTensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    public const string RopeFreqs = "rope_freqs.weight";
    public const string RopeFactorsLong = "rope_factors_long.weight";
    public const string RopeFactorsShort = "rope_factors_short.weight";

    /// <summary>Per-block HF module suffix → GGUF block tensor base name ("blk.{bid}." + value).</summary>
    public static IReadOnlyDictionary<string, string> BlockModules { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["input_layernorm"] = "attn_norm",
        ["self_attn.q_proj"] = "attn_q",
        ["self_attn.k_proj"] = "attn_k",
        ["self_attn.v_proj"] = "attn_v",
        ["self_attn.o_proj"] = "attn_output",
        ["post_attention_layernorm"] = "ffn_norm",
        ["mlp.gate_proj"] = "ffn_gate",
        ["mlp.up_proj"] = "ffn_up",
        ["mlp.down_proj"] = "ffn_down",
    };

    private static readonly IReadOnlyDictionary<string, string> QkNorms = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["self_attn.q_norm"] = "attn_q_norm",
        ["self_attn.k_norm"] = "attn_k_norm",
    };

    /// <summary>Per-architecture block modules where they differ from <see cref="BlockModules"/>.</summary>
    private static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ArchitectureBlockModules =
        new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal)
        {
            ["qwen3"] = With(QkNorms),
            ["gemma3"] = With(QkNorms, new Dictionary<string, string>
            {
                ["post_attention_layernorm"] = "post_attention_norm",
                ["pre_feedforward_layernorm"] = "ffn_norm",
                ["post_feedforward_layernorm"] = "post_ffw_norm",
            }),
            ["phi3"] = With(new Dictionary<string, string>
            {
                ["self_attn.qkv_proj"] = "attn_qkv",
                ["mlp.gate_up_proj"] = "ffn_up",
            }),
        };

    private static Dictionary<string, string> With(params IReadOnlyDictionary<string, string>[] overrides)
    {
        var map = new Dictionary<string, string>(BlockModules, StringComparer.Ordinal);
        foreach (var o in overrides)
            foreach (var (k, v) in o) map[k] = v;
        return map;
    }

    /// <summary>The block modules of a GGUF architecture ("llama", "qwen2", "qwen3", "gemma3", "phi3"); null = llama's.</summary>
    public static IReadOnlyDictionary<string, string> BlockModulesFor(string? architecture) =>
        architecture is not null && ArchitectureBlockModules.TryGetValue(architecture, out var m) ? m : BlockModules;

    private static readonly IReadOnlyDictionary<string, string> Globals = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["model.embed_tokens.weight"] = TokenEmbedding,
        ["model.norm.weight"] = OutputNorm,
        ["lm_head.weight"] = Output,
    };

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex BlockTensor();

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)$")]
    private static partial Regex BlockModule();

    /// <summary>HF tensors the converter drops on purpose (buffers recomputed by the engine).</summary>
    public static bool IsIgnored(string hfName) => hfName.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>Maps an HF checkpoint tensor name; null when the name is not one llama.cpp's graph for the architecture has.</summary>
    public static string? TryMap(string hfName, string? architecture = null)
    {
        if (Globals.TryGetValue(hfName, out var g)) return g;
        var m = BlockTensor().Match(hfName);
        if (!m.Success || !BlockModulesFor(architecture).TryGetValue(m.Groups[2].Value, out var baseName)) return null;
        return $"blk.{m.Groups[1].Value}.{baseName}.{m.Groups[3].Value}";
    }

    public static string Map(string hfName, string? architecture = null) => TryMap(hfName, architecture)
        ?? throw new ArgumentException($"Tensor '{hfName}' has no GGUF name for the {architecture ?? "llama"} architecture.");

    /// <summary>Maps an HF Linear module path (e.g. model.layers.0.self_attn.q_proj) to its GGUF weight name.</summary>
    public static string? TryMapModule(string hfModulePath, string? architecture = null)
    {
        if (hfModulePath == "lm_head") return Output;
        if (hfModulePath == "model.embed_tokens") return TokenEmbedding;
        var m = BlockModule().Match(hfModulePath);
        return m.Success && BlockModulesFor(architecture).TryGetValue(m.Groups[2].Value, out var baseName) ? $"blk.{m.Groups[1].Value}.{baseName}.weight" : null;
    }
}
