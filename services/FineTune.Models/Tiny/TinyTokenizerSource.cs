using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Models.Tokenizers;

namespace FineTune.Models.Tiny;

/// <summary>The ids a model config needs from the tokenizer the tiny model ships with.</summary>
public sealed record TinyTokenizerIds(int VocabSize, int EndOfTextId, int ImStartId, int ImEndId);

/// <summary>
/// Writes the tiny model's tokenizer files (tokenizer.json, tokenizer_config.json with a ChatML template). This is the one
/// place the tiny model gets its tokenizer from: a byte-level BPE with no merges (256 byte tokens plus the ChatML
/// specials), in Qwen2's layout, until the tokenizer builder with learned merges lands.
/// </summary>
internal static class TinyTokenizerSource
{
    private const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public static TinyTokenizerIds Write(string folder)
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Encode((byte)b).ToString()] = b;
        string[] specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
        var added = new JsonArray();
        var decoder = new JsonObject();
        for (var i = 0; i < specials.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = 256 + i, ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
            decoder[(256 + i).ToString()] = new JsonObject
            {
                ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            };
        }
        JsonObject ByteLevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Qwen2Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    ByteLevel()),
            },
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray(),
            },
        };
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = null,
            ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>",
            ["unk_token"] = null,
            ["chat_template"] = ChatMl,
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = 2048,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
        TinyModel.WriteJson(Path.Combine(folder, "tokenizer.json"), tokenizer);
        TinyModel.WriteJson(Path.Combine(folder, "tokenizer_config.json"), config);
        return new TinyTokenizerIds(256 + specials.Length, 256, 257, 258);
    }
}
