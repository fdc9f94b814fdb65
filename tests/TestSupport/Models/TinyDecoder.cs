using System.Text.Json.Nodes;
using FineTune.Models;
using FineTune.Models.Core;

namespace FineTune.Tests;

/// <summary>
/// Tiny configs and seeded decoders of the real architectures (<see cref="CausalLM"/>: Llama, Qwen2, Mistral) for tests:
/// 1–2 layers, 16–32 wide. Not in the TestSupport/*.cs glob (it needs FineTune.Models, hence TorchSharp): a test project
/// that references FineTune.Models links it in its csproj.
/// </summary>
internal static class TinyDecoder
{
    public static JsonObject ConfigJson(string architecture = "LlamaForCausalLM", int layers = 2, int hidden = 32, int heads = 4,
        int kvHeads = 2, int vocab = 64, bool tie = false, int maxPositions = 128) => new()
    {
        ["architectures"] = new JsonArray(architecture),
        ["vocab_size"] = vocab,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = hidden * 2,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = kvHeads,
        ["max_position_embeddings"] = maxPositions,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = tie,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
    };

    public static ModelConfig Config(JsonObject json) => ModelConfig.Parse(json, "test config.json");

    /// <summary>A decoder with seeded normal weights; <paramref name="std"/> well above HF's 0.02 so logits differ visibly between positions.</summary>
    public static CausalLM Create(JsonObject json, long seed = 1, double std = 0.2)
    {
        var model = new CausalLM(Config(json));
        model.InitializeWeights(seed, std);
        return model;
    }
}
