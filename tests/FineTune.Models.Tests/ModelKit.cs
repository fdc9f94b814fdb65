using System.Text.Json.Nodes;
using FineTune.Models;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>Tiny configs and models of the real architectures for tests (1–2 layers, 16–32 wide).</summary>
internal static class ModelKit
{
    public static JsonObject ConfigJson(string architecture = "LlamaForCausalLM", int layers = 2, int hidden = 32, int heads = 4,
        int kvHeads = 2, int vocab = 64, bool tie = false) => new()
    {
        ["architectures"] = new JsonArray(architecture),
        ["vocab_size"] = vocab,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = hidden * 2,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = kvHeads,
        ["max_position_embeddings"] = 128,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = tie,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
    };

    public static ModelConfig Config(JsonObject json) => ModelConfig.Parse(json, "test config.json");

    public static CausalLM Model(JsonObject json, long seed = 1)
    {
        var m = new CausalLM(Config(json));
        m.InitializeWeights(seed, std: 0.2); // larger than HF's 0.02 so logits differ visibly between positions
        return m;
    }

    public static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    public static long[] RandomTokens(int n, int vocab, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (long)rng.Next(vocab))];
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= atol, $"max |diff| = {diff} > {atol}");
    }
}
