using System.Text.Json.Nodes;
using FineTune.Models;
using FineTune.Training.Model;

namespace FineTune.Training.Tests;

/// <summary>Tiny real decoders (FineTune.Models.CausalLM) for tests.</summary>
internal static class TinyModels
{
    public static ModelConfig Config(int layers = 2, int hidden = 32, int heads = 4, int kvHeads = 2, int vocab = 64, bool tie = false) =>
        ModelConfig.Parse(new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = vocab,
            ["hidden_size"] = hidden,
            ["intermediate_size"] = hidden * 2,
            ["num_hidden_layers"] = layers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["max_position_embeddings"] = 256,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = tie,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
        }, "tiny config.json");

    public static CausalLMTrainable Llama(long seed = 1, int layers = 2, int hidden = 32, int vocab = 64, bool tie = false)
    {
        var model = new CausalLM(Config(layers, hidden, vocab: vocab, tie: tie));
        model.InitializeWeights(seed, std: 0.1);
        return new CausalLMTrainable(model);
    }
}
