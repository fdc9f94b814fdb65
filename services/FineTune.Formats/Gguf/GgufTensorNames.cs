// Hugging Face → GGUF tensor names for the llama family and qwen2 (gguf-py tensor_mapping.py, llama-arch.cpp;
// shared/reference/gguf-ollama.md §3). Data plus one mapping function; no I/O.
using System.Text.RegularExpressions;

namespace FineTune.Formats.Gguf;

public static partial class GgufTensorNames
{
    public const string TokenEmbedding = "token_embd.weight";
    public const string OutputNorm = "output_norm.weight";
    public const string Output = "output.weight";
    public const string RopeFreqs = "rope_freqs.weight";

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

    /// <summary>Maps an HF checkpoint tensor name; null when the name is not one llama.cpp's llama/qwen2 graph has.</summary>
    public static string? TryMap(string hfName)
    {
        if (Globals.TryGetValue(hfName, out var g)) return g;
        var m = BlockTensor().Match(hfName);
        if (!m.Success || !BlockModules.TryGetValue(m.Groups[2].Value, out var baseName)) return null;
        return $"blk.{m.Groups[1].Value}.{baseName}.{m.Groups[3].Value}";
    }

    public static string Map(string hfName) => TryMap(hfName)
        ?? throw new ArgumentException($"Tensor '{hfName}' has no GGUF name for the llama/qwen2 architectures.");

    /// <summary>Maps an HF Linear module path (e.g. model.layers.0.self_attn.q_proj) to its GGUF weight name.</summary>
    public static string? TryMapModule(string hfModulePath)
    {
        if (hfModulePath == "lm_head") return Output;
        if (hfModulePath == "model.embed_tokens") return TokenEmbedding;
        var m = BlockModule().Match(hfModulePath);
        return m.Success && BlockModules.TryGetValue(m.Groups[2].Value, out var baseName) ? $"blk.{m.Groups[1].Value}.{baseName}.weight" : null;
    }
}
