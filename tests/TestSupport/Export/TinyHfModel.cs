using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Tests;

/// <summary>
/// Writes a small Hugging Face model folder (config.json, model.safetensors, tokenizer.json with a byte-level BPE,
/// tokenizer_config.json with a ChatML template) with seeded random weights, for export tests.
/// </summary>
public static class TinyHfModel
{
    public sealed record Spec(string Architecture = "qwen2", int Hidden = 64, int Layers = 2, int Heads = 4, int KvHeads = 2,
        int Intermediate = 128, int VocabRows = 300, bool Tied = false, bool QkvBias = true, int Seed = 1,
        SafetensorDType DType = SafetensorDType.F32, float WeightScale = 0.08f, bool TinyTokenizer = false);

    public static readonly string[] Merges =
    [
        "Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "o n", "Ġ s", "r e", "Ġ w", "a t", "e n", "o u", "Ġ h", "l l",
        "Ġ c", "i s", "Ġ b", "o r", "e s", "Ġ o", "Ġ m", "a n", "Ġ f", "in g", "Ġ i", "l o", "he ll", "hell o", "Ġ d",
    ];

    public const string ChatTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public static string Write(string folder, Spec spec)
    {
        Directory.CreateDirectory(folder);
        if (spec.TinyTokenizer)
        {
            // The product's tiny byte-level BPE (FineTune.Models), as the embedded model uses.
            var info = TinyTokenizerBuilder.Write(folder);
            if (info.VocabSize > spec.VocabRows) throw new ArgumentException($"VocabRows {spec.VocabRows} < tokenizer vocabulary {info.VocabSize}.");
        }
        else
        {
            var (vocab, specials) = Vocabulary();
            if (vocab.Count + specials.Length > spec.VocabRows) throw new ArgumentException("VocabRows too small for the tokenizer.");
            WriteTokenizer(folder, vocab, specials);
        }
        WriteConfig(folder, spec);
        WriteWeights(folder, spec);
        return folder;
    }

    public static IEnumerable<string> LinearModules(Spec spec)
    {
        for (var i = 0; i < spec.Layers; i++)
            foreach (var m in new[] { "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj" })
                yield return $"model.layers.{i}.{m}";
    }

    public static (int Out, int In) LinearShape(Spec s, string module)
    {
        var hd = s.Hidden / s.Heads;
        return module.Split('.')[^1] switch
        {
            "q_proj" => (s.Heads * hd, s.Hidden),
            "k_proj" or "v_proj" => (s.KvHeads * hd, s.Hidden),
            "o_proj" => (s.Hidden, s.Heads * hd),
            "gate_proj" or "up_proj" => (s.Intermediate, s.Hidden),
            "down_proj" => (s.Hidden, s.Intermediate),
            _ => throw new ArgumentException(module),
        };
    }

    private static void WriteConfig(string folder, Spec s)
    {
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray(s.Architecture == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"),
            ["model_type"] = s.Architecture,
            ["hidden_size"] = s.Hidden,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["intermediate_size"] = s.Intermediate,
            ["vocab_size"] = s.VocabRows,
            ["max_position_embeddings"] = 512,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = s.Tied,
            ["bos_token_id"] = null,
            ["eos_token_id"] = null,
            ["torch_dtype"] = s.DType == SafetensorDType.F32 ? "float32" : s.DType == SafetensorDType.BF16 ? "bfloat16" : "float16",
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>GPT-2 byte→unicode alphabet (256 symbols) followed by the merge results.</summary>
    public static (List<string> Vocab, string[] Specials) Vocabulary()
    {
        var vocab = new List<string>();
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            vocab.Add(((char)(printable ? b : 256 + n++)).ToString());
        }
        foreach (var m in Merges) vocab.Add(m.Replace(" ", ""));
        return (vocab, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]);
    }

    private static void WriteTokenizer(string folder, List<string> vocab, string[] specials)
    {
        var v = new JsonObject();
        for (var i = 0; i < vocab.Count; i++) v[vocab[i]] = i;
        var added = new JsonArray();
        for (var i = 0; i < specials.Length; i++)
            added.Add(new JsonObject { ["id"] = vocab.Count + i, ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        var qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = qwen2Regex }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            },
            ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = false,
                ["vocab"] = v,
                ["merges"] = new JsonArray(Merges.Select(m => (JsonNode)m).ToArray()),
            },
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer.json"), tokenizer.ToJsonString());
        var cfg = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["bos_token"] = null,
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>",
            ["chat_template"] = ChatTemplate,
            ["model_max_length"] = 512,
            ["tokenizer_class"] = "Qwen2Tokenizer",
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), cfg.ToJsonString());
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), new JsonObject { ["eos_token_id"] = new JsonArray(vocab.Count + 2, vocab.Count) }.ToJsonString());
    }

    private static void WriteWeights(string folder, Spec s)
    {
        var rng = new Random(s.Seed);
        var w = new SafetensorsWriter();
        void Add(string name, long[] shape, Func<int, float> init)
        {
            var n = (int)shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[n];
            for (var i = 0; i < n; i++) values[i] = init(i);
            w.Add(name, s.DType, shape, Encode(values, s.DType));
        }
        float Rand(int _) => (float)(Gaussian(rng) * s.WeightScale);
        float Norm(int _) => 1f + (float)(Gaussian(rng) * 0.1);
        float Bias(int _) => (float)(Gaussian(rng) * 0.02);
        Add("model.embed_tokens.weight", [s.VocabRows, s.Hidden], i => (float)(Gaussian(rng) * 0.5));
        for (var l = 0; l < s.Layers; l++)
        {
            Add($"model.layers.{l}.input_layernorm.weight", [s.Hidden], Norm);
            Add($"model.layers.{l}.post_attention_layernorm.weight", [s.Hidden], Norm);
            foreach (var m in LinearModules(s).Where(m => m.StartsWith($"model.layers.{l}.", StringComparison.Ordinal)))
            {
                var (o, i) = LinearShape(s, m);
                Add(m + ".weight", [o, i], Rand);
                if (s.QkvBias && (m.EndsWith("q_proj") || m.EndsWith("k_proj") || m.EndsWith("v_proj"))) Add(m + ".bias", [o], Bias);
            }
        }
        Add("model.norm.weight", [s.Hidden], Norm);
        if (!s.Tied) Add("lm_head.weight", [s.VocabRows, s.Hidden], Rand);
        w.WriteFile(Path.Combine(folder, "model.safetensors"));
    }

    public static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static byte[] Encode(float[] values, SafetensorDType dtype)
    {
        switch (dtype)
        {
            case SafetensorDType.F32:
                var b = new byte[values.Length * 4];
                Buffer.BlockCopy(values, 0, b, 0, b.Length);
                return b;
            case SafetensorDType.F16:
                var h = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(h.AsSpan(2 * i), BitConverter.HalfToUInt16Bits((Half)values[i]));
                return h;
            case SafetensorDType.BF16:
                var bf = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bf.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(values[i]) >> 16));
                return bf;
            default: throw new ArgumentException(dtype.ToString());
        }
    }

    public static string Utf8(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
}
