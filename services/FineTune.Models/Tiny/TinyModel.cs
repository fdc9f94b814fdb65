using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Models.Tokenizers;

namespace FineTune.Models.Tiny;

/// <summary>
/// The embedded default model: a real Hugging Face folder (config.json with LlamaForCausalLM, generation_config.json,
/// model.safetensors, and the byte-level BPE tokenizer.json + tokenizer_config.json (ChatML template) of
/// <see cref="TinyTokenizerBuilder"/>), randomly initialised from a seed.
/// It exists so demos, tests and CI have a model without any download; see docs/models.md.
/// </summary>
public static class TinyModel
{
    /// <summary>Where the tiny model lives under the shared data root.</summary>
    public const string DataRootFolder = "models/tiny-llama";

    /// <summary>
    /// Writes the model to <paramref name="folder"/>, which must not exist or be empty (unless <paramref name="overwrite"/>).
    /// Files are assembled in a temporary sibling folder and moved into place, so a failure leaves nothing half-written.
    /// Same seed and preset give byte-identical files. The tokenizer's merges are learnt from
    /// <paramref name="tokenizerCorpus"/> (the built-in corpus when null), up to <paramref name="merges"/> of them: a task's
    /// own text gives a vocabulary of its words, as a tokenizer trained for a domain would.
    /// </summary>
    public static ModelConfig Write(string folder, long seed = 0, TinyModelPreset? preset = null, bool overwrite = false,
        IEnumerable<string>? tokenizerCorpus = null, int merges = TinyTokenizerBuilder.DefaultMerges)
    {
        preset ??= TinyModelPreset.Tiny;
        folder = Path.GetFullPath(folder);
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
        {
            if (!overwrite) throw new IOException($"{folder}: folder exists and is not empty (ft init-tiny --force, or overwrite: true, replaces it)");
        }
        var parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        var staging = Path.Combine(parent, $".{Path.GetFileName(folder)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            var config = WriteInto(staging, seed, preset, tokenizerCorpus, merges);
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.Move(staging, folder);
            return config;
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }

    private static ModelConfig WriteInto(string folder, long seed, TinyModelPreset preset, IEnumerable<string>? corpus, int merges)
    {
        // The tokenizer: byte-level BPE with merges learned from the corpus, ChatML specials and template.
        var ids = TinyTokenizerBuilder.Write(folder, corpus, merges);
        var config = ModelConfig.Parse(new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = ids.VocabSize,
            ["hidden_size"] = preset.HiddenSize,
            ["intermediate_size"] = preset.IntermediateSize,
            ["num_hidden_layers"] = preset.Layers,
            ["num_attention_heads"] = preset.Heads,
            ["num_key_value_heads"] = preset.KeyValueHeads,
            ["head_dim"] = preset.HiddenSize / preset.Heads,
            ["max_position_embeddings"] = 2048,
            ["rms_norm_eps"] = 1e-5,
            ["rope_theta"] = 10000.0,
            ["hidden_act"] = "silu",
            ["tie_word_embeddings"] = false,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["initializer_range"] = 0.02,
            ["bos_token_id"] = ids.EndOfTextId,
            ["eos_token_id"] = ids.ImEndId,
            ["pad_token_id"] = ids.EndOfTextId,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = "4.46.0",
            ["ft_tiny_preset"] = preset.Name,
            ["ft_tiny_seed"] = seed,
        }, Path.Combine(folder, "config.json"));

        using (var model = new CausalLM(config))
        {
            model.InitializeWeights(seed);
            model.Save(folder);
        }
        WriteJson(Path.Combine(folder, "generation_config.json"), new JsonObject
        {
            ["bos_token_id"] = ids.EndOfTextId,
            ["eos_token_id"] = new JsonArray(ids.ImEndId, ids.EndOfTextId),
            ["pad_token_id"] = ids.EndOfTextId,
            ["do_sample"] = false,
            ["max_new_tokens"] = 256,
        });
        return config;
    }

    internal static void WriteJson(string path, JsonNode node) =>
        SafetensorsWriter.AtomicWrite(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(
            node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n")));
}
