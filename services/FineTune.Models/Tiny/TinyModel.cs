using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Models.Core.Tokenizers;
using FineTune.Models.Core;

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
    /// <param name="family">One of <see cref="TinyFamily.Names"/>: the architecture and config layout to write.</param>
    /// <param name="init">Weight scales; models that judge exports use larger ones (peaked logits, no near-ties).</param>
    public static ModelConfig Write(string folder, long seed = 0, TinyModelPreset? preset = null, bool overwrite = false,
        IEnumerable<string>? tokenizerCorpus = null, int merges = TinyTokenizerBuilder.DefaultMerges, string family = "llama",
        TinyInit? init = null)
    {
        TinyFamily.Check(family);
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
            var config = WriteInto(staging, seed, preset, tokenizerCorpus, merges, family, init ?? TinyInit.Default);
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

    private static ModelConfig WriteInto(string folder, long seed, TinyModelPreset preset, IEnumerable<string>? corpus, int merges,
        string family, TinyInit init)
    {
        // The tokenizer: byte-level BPE with merges learned from the corpus, ChatML specials and template.
        var ids = TinyTokenizerBuilder.Write(folder, corpus, merges);
        // The family's own keys first (architecture, layout switches), then sizes and special tokens unless it set them.
        var json = TinyFamily.Config(family, preset);
        var common = new JsonObject
        {
            ["vocab_size"] = ids.VocabSize,
            ["hidden_size"] = preset.HiddenSize,
            ["intermediate_size"] = preset.IntermediateSize,
            ["num_hidden_layers"] = preset.Layers,
            ["num_attention_heads"] = preset.Heads,
            ["num_key_value_heads"] = preset.KeyValueHeads,
            ["head_dim"] = preset.HiddenSize / preset.Heads,
            ["max_position_embeddings"] = 2048,
            ["rms_norm_eps"] = 1e-5,
            ["initializer_range"] = init.Std,
            ["bos_token_id"] = ids.EndOfTextId,
            ["eos_token_id"] = ids.ImEndId,
            ["pad_token_id"] = ids.EndOfTextId,
            ["torch_dtype"] = "float32",
            ["transformers_version"] = "4.46.0",
            ["ft_tiny_preset"] = preset.Name,
            ["ft_tiny_seed"] = seed,
            ["ft_tiny_family"] = family,
        };
        foreach (var (key, value) in common)
            if (!json.ContainsKey(key)) json[key] = value?.DeepClone();
        var config = ModelConfig.Parse(json, Path.Combine(folder, "config.json"));

        using (var model = new CausalLM(config))
        {
            // Gemma multiplies embeddings by √hidden; dividing their std by it keeps the residual stream at the same scale,
            // so the layers, not the embedding alone, decide the next token.
            var embeddingStd = config.Gemma ? init.EmbeddingStd / Math.Sqrt(config.HiddenSize) : init.EmbeddingStd;
            model.InitializeWeights(seed, init.Std, init.NormStd, embeddingStd);
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

    /// <summary>Weight initialisation of a tiny model.</summary>
    /// <param name="Std">Projections (and the embedding unless <paramref name="EmbeddingStd"/>).</param>
    /// <param name="NormStd">Noise on the norms, so an export that mishandles one (Gemma's 1 + w) shows.</param>
    public sealed record TinyInit(double Std = 0.02, double NormStd = 0, double? EmbeddingStd = null)
    {
        public static readonly TinyInit Default = new();

        /// <summary>For models whose exports are judged token for token: peaked logits, every weight matters.</summary>
        public static readonly TinyInit Judge = new(0.1, 0.1, 0.5);
    }

    internal static void WriteJson(string path, JsonNode node) =>
        SafetensorsWriter.AtomicWrite(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(
            node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n")));
}
