using System.Text.Json.Nodes;

namespace FineTune.Models.Tiny;

/// <summary>
/// The config.json of a tiny random model in each supported family's real Hugging Face layout: the architecture class,
/// model_type and the family's own keys (Qwen2's qkv bias, Mistral's sliding_window, Qwen3's explicit head_dim,
/// Gemma 3's layer_types / two RoPE bases / query_pre_attn_scalar, Phi-3's LongRoPE). Sizes come from the preset.
/// Every family can be written, loaded, trained, merged and exported like a downloaded checkpoint of that family.
/// </summary>
public static class TinyFamily
{
    public static readonly IReadOnlyList<string> Names = ["llama", "qwen2", "mistral", "qwen3", "gemma3", "phi3"];

    /// <summary>The sliding window of the tiny Gemma 3 (short, so tests' prompts outgrow it).</summary>
    public const int GemmaSlidingWindow = 16;

    public static string Check(string family) =>
        Names.Contains(family) ? family : throw new ArgumentException($"unknown tiny model family '{family}' (families: {string.Join(", ", Names)})");

    /// <summary>The family-specific part of config.json; sizes, vocabulary and special tokens are added by the caller.</summary>
    public static JsonObject Config(string family, TinyModelPreset p) => Check(family) switch
    {
        "llama" => new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false, ["attention_bias"] = false, ["mlp_bias"] = false, ["rope_theta"] = 10000.0,
        },
        "qwen2" => new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen2ForCausalLM"), ["model_type"] = "qwen2", ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = true, ["use_sliding_window"] = false, ["sliding_window"] = 4096, ["rope_theta"] = 1000000.0,
        },
        "mistral" => new JsonObject
        {
            ["architectures"] = new JsonArray("MistralForCausalLM"), ["model_type"] = "mistral", ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false, ["sliding_window"] = null, ["rope_theta"] = 1000000.0,
        },
        "qwen3" => new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"), ["model_type"] = "qwen3", ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = true, ["attention_bias"] = false, ["use_sliding_window"] = false,
            ["head_dim"] = p.HiddenSize / p.Heads * 2, ["rope_theta"] = 1000000.0,
        },
        "gemma3" => Gemma3(p),
        _ => Phi3(p),
    };

    private static JsonObject Gemma3(TinyModelPreset p)
    {
        var headDim = p.HiddenSize / p.Heads * 2;
        return new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForCausalLM"), ["model_type"] = "gemma3_text",
            ["hidden_activation"] = "gelu_pytorch_tanh", ["tie_word_embeddings"] = true, ["attention_bias"] = false,
            ["head_dim"] = headDim,
            // Not head_dim, as in the 27B: the export must carry the difference (llama.cpp scales by 1/√head_dim).
            ["query_pre_attn_scalar"] = headDim * 3 / 4,
            ["sliding_window"] = GemmaSlidingWindow,
            ["layer_types"] = new JsonArray([.. Enumerable.Range(0, p.Layers)
                .Select(i => (JsonNode)((i + 1) % 2 != 0 ? "sliding_attention" : "full_attention"))]),
            ["rope_theta"] = 1000000.0, ["rope_local_base_freq"] = 10000.0, ["rope_scaling"] = null,
            ["final_logit_softcapping"] = 30.0, ["attn_logit_softcapping"] = null,
        };
    }

    private static JsonObject Phi3(TinyModelPreset p)
    {
        var half = p.HiddenSize / p.Heads / 2;
        JsonArray Factors(double step) => new([.. Enumerable.Range(0, half).Select(i => (JsonNode)(1.0 + step * i))]);
        return new JsonObject
        {
            ["architectures"] = new JsonArray("Phi3ForCausalLM"), ["model_type"] = "phi3", ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false, ["sliding_window"] = null, ["rope_theta"] = 10000.0,
            ["max_position_embeddings"] = 16384, ["original_max_position_embeddings"] = 4096,
            ["rope_scaling"] = new JsonObject { ["type"] = "longrope", ["short_factor"] = Factors(0.05), ["long_factor"] = Factors(0.5) },
        };
    }
}
