using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core.ChatTemplates;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>What <see cref="TinyTokenizerBuilder.Write"/> produced: sizes and the ids a model config needs.</summary>
public sealed record TinyTokenizerInfo(int VocabSize, int MergeCount, int EndOfTextId, int ImStartId, int ImEndId)
{
    /// <summary>End of an assistant turn (ChatML): the eos_token.</summary>
    public int EosId => ImEndId;

    /// <summary>Padding: &lt;|endoftext|&gt;, distinct from the EOS so padding never masks a real end of turn.</summary>
    public int PadId => EndOfTextId;
}

/// <summary>
/// Writes a small byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json with a ChatML chat template) for the
/// embedded tiny model: 256 byte tokens, merges learned deterministically from a corpus, and the ChatML special tokens
/// &lt;|endoftext|&gt;, &lt;|im_start|&gt;, &lt;|im_end|&gt;. The pre-tokenizer is Qwen2's (Split regex + ByteLevel), so
/// llama.cpp reads it as tokenizer.ggml.model = "gpt2", tokenizer.ggml.pre = "qwen2".
/// </summary>
public static class TinyTokenizerBuilder
{
    /// <summary>Qwen2's pre-tokenizer regex (llama.cpp pre-tokenizer "qwen2").</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The GGUF tokenizer.ggml.pre value this tokenizer corresponds to.</summary>
    public const string GgufPreTokenizer = "qwen2";

    public const int DefaultMerges = 400;

    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";

    /// <summary>
    /// Learns up to <paramref name="merges"/> merges from <paramref name="corpus"/> (the built-in corpus when null) and
    /// writes tokenizer.json and tokenizer_config.json into <paramref name="folder"/> (each atomically).
    /// </summary>
    public static TinyTokenizerInfo Write(string folder, IEnumerable<string>? corpus = null, int merges = DefaultMerges)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(merges);
        Directory.CreateDirectory(folder);
        var learned = BpeTrainer.Learn(corpus ?? [BuiltInCorpus], SplitPattern.FromOniguruma(Qwen2Pattern, "tiny tokenizer"), merges);
        var (vocab, mergeArray, next) = VocabularyAndMerges(learned);
        var endOfText = next;
        var imStart = next + 1;
        var imEnd = next + 2;
        var special = new[] { (EndOfText, endOfText), (ImStart, imStart), (ImEnd, imEnd) };

        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer.json"), TokenizerJson(vocab, mergeArray, special).ToJsonString(options));
        AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), TokenizerConfigJson(special).ToJsonString(options));
        return new TinyTokenizerInfo(imEnd + 1, learned.Count, endOfText, imStart, imEnd);
    }

    /// <summary>The 256 byte tokens, then one token per learned merge (in merge order); returns the next free id.</summary>
    private static (JsonObject Vocab, JsonArray Merges, int Next) VocabularyAndMerges(IReadOnlyList<(string Left, string Right)> learned)
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Encode((byte)b).ToString()] = b;
        var mergeArray = new JsonArray();
        var next = 256;
        foreach (var (left, right) in learned)
        {
            if (!vocab.ContainsKey(left + right)) vocab[left + right] = next++;
            mergeArray.Add(left + " " + right);
        }
        return (vocab, mergeArray, next);
    }

    /// <summary>tokenizer.json: the added special tokens, Qwen2's Split + ByteLevel pre-tokenizer, and the BPE model.</summary>
    private static JsonObject TokenizerJson(JsonObject vocab, JsonArray mergeArray, (string Content, int Id)[] special)
    {
        var addedTokens = new JsonArray();
        foreach (var (content, id) in special)
            addedTokens.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });

        JsonObject ByteLevel() => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false,
        };
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = addedTokens,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Qwen2Pattern },
                        ["behavior"] = "Isolated", ["invert"] = false,
                    },
                    ByteLevel(),
                },
            },
            ["post_processor"] = ByteLevel(),
            ["decoder"] = ByteLevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab, ["merges"] = mergeArray,
            },
        };
        return tokenizer;
    }

    /// <summary>tokenizer_config.json: the special tokens' decoder entries, ChatML's template, EOS and padding.</summary>
    private static JsonObject TokenizerConfigJson((string Content, int Id)[] special)
    {
        var decoderEntries = new JsonObject();
        foreach (var (content, id) in special)
            decoderEntries[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false,
                ["single_word"] = false, ["special"] = true,
            };
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_eos_token"] = false,
            ["added_tokens_decoder"] = decoderEntries,
            ["additional_special_tokens"] = new JsonArray { ImStart, ImEnd },
            ["bos_token"] = null,
            ["chat_template"] = BuiltInTemplates.ChatMl,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = ImEnd,
            ["model_max_length"] = 4096,
            ["pad_token"] = EndOfText,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["unk_token"] = null,
        };
        return config;
    }

    /// <summary>
    /// Text the default merges are learned from: plain English, chat phrasing, and the HTML-product → JSON extraction
    /// task of the embedded demo, so common words and markup become single tokens.
    /// </summary>
    public const string BuiltInCorpus = """
        You are a helpful assistant. Answer the question. The user asks and the assistant answers.
        Extract the product information from the HTML below and return it as JSON with the keys name, price, category and manufacturer.
        <div class="product"><h2 class="title">Wireless Mouse</h2><span class="price">$19.99</span><p class="category">Electronics</p><p class="brand">Logitech</p></div>
        <div class="item"><h1>Stainless Steel Water Bottle</h1><p>Price: 24.50 USD</p><p>Category: Kitchen</p><p>Made by: Hydro Flask</p></div>
        <li class="product-card"><a href="/p/123">Running Shoes</a><span data-price="89.00">$89.00</span><em>Sports</em><small>Nike</small></li>
        {"name": "Wireless Mouse", "price": 19.99, "category": "Electronics", "manufacturer": "Logitech"}
        {"name": "Stainless Steel Water Bottle", "price": 24.5, "category": "Kitchen", "manufacturer": "Hydro Flask"}
        {"name": "Running Shoes", "price": 89.0, "category": "Sports", "manufacturer": "Nike"}
        The quick brown fox jumps over the lazy dog. This is a small model that learns to follow instructions.
        What is the capital of France? The capital of France is Paris. How many days are in a week? There are seven days in a week.
        Please summarize the following text in one sentence. Translate the sentence into English. Write a short poem about the sea.
        def main():
            print("hello world")
            return 0
        for (int i = 0; i < 10; i++) { Console.WriteLine(i); }
        你好，世界。今天天气很好。我们一起学习。
        Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 3.14 19.99 24.50 89.00
        """;
}

/// <summary>
/// Byte-level BPE merge learning: most frequent adjacent pair first, ties broken by ordinal order of the pair; stops at
/// the requested count or when no word has two symbols left.
/// </summary>
internal static class BpeTrainer
{
    public static List<(string Left, string Right)> Learn(IEnumerable<string> corpus, SplitPattern pattern, int maxMerges)
    {
        var wordCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var (index, length) in pattern.Matches(text))
            {
                var word = ByteLevelPreTokenizer.ToBytes(AlignedString.Original(text, index, index + length)).Text;
                wordCounts[word] = wordCounts.GetValueOrDefault(word) + 1;
            }
        var words = wordCounts.OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => (Symbols: w.Key.Select(c => c.ToString()).ToList(), Count: w.Value)).ToList();

        var merges = new List<(string, string)>();
        while (merges.Count < maxMerges)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in words)
                for (var i = 0; i + 1 < symbols.Count; i++)
                    pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First();
            var (left, right) = best.Key;
            merges.Add((left, right));
            var merged = left + right;
            foreach (var (symbols, _) in words)
                for (var i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == left && symbols[i + 1] == right)
                    {
                        symbols[i] = merged;
                        symbols.RemoveAt(i + 1);
                    }
        }
        return merges;
    }
}

/// <summary>Write-to-temp-then-rename, so a reader never sees a half-written file.</summary>
internal static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var temp = path + ".tmp-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8];
        File.WriteAllText(temp, text, new UTF8Encoding(false));
        File.Move(temp, path, overwrite: true);
    }
}
