using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

/// <summary>
/// WordPiece and Unigram models (no decoder LLM we load ships one, so the vocabularies are generated from the parity
/// corpus) against @huggingface/tokenizers: a BERT-style WordPiece tokenizer (BertNormalizer, BertPreTokenizer,
/// BertProcessing, WordPiece decoder) and a SentencePiece-style Unigram tokenizer (Metaspace, TemplateProcessing with
/// &lt;/s&gt;, Metaspace decoder). Ids and decodes must be equal on every corpus text, except texts carrying a
/// documented normalizer/pre-tokenizer difference of the JavaScript port (asserted in ComponentParityTests).
/// </summary>
public class GeneratedModelParityTests
{
    // The characters behind the port's documented differences for BertNormalizer and BertPreTokenizer.
    private const string BertDifferences = "𠀀𠀁𠮷𩸽𪚲ΣǅǈǋẞΟ\u0085\u2028\u2029\u000B\u000C\uFEFF";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WordPieceEqualsTheReference(bool addSpecialTokens)
    {
        using var dir = new TempDirectory("tok-wordpiece");
        File.WriteAllText(dir.File("tokenizer.json"), WordPieceJson());
        var texts = Corpus().Where(t => !t.EnumerateRunes().Any(r => BertDifferences.Contains(r.ToString(), StringComparison.Ordinal))).ToArray();
        var tokenizer = HfTokenizer.FromFolder(dir.Path);
        Assert.Equal("WordPiece", tokenizer.Kind);
        AssertEqualsReference(dir, tokenizer, texts, addSpecialTokens);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnigramEqualsTheReference(bool addSpecialTokens)
    {
        using var dir = new TempDirectory("tok-unigram");
        var json = UnigramJson();
        File.WriteAllText(dir.File("tokenizer.json"), json);
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"eos_token": "</s>", "unk_token": "<unk>"}""");
        var tokenizer = HfTokenizer.FromFolder(dir.Path);
        Assert.Equal("Unigram", tokenizer.Kind);
        // Documented difference: two segmentations whose scores are equal in exact arithmetic (e.g. "loca"+"l" and
        // "l"+"ocal", both summing the same two scores) are told apart by f64 rounding, which depends on the order of the
        // additions; ours follows the Rust library's order (best score per end position, earlier start wins exact ties),
        // the port sums per lattice node. Such a text may differ, but only between segmentations of equal total score.
        var scores = JsonNode.Parse(json)!["model"]!["vocab"]!.AsArray().Select(e => (double)e![1]!).ToArray();
        AssertEqualsReference(dir, tokenizer, Corpus(), addSpecialTokens, (ours, reference) =>
            Math.Abs(ours.Sum(id => scores[id]) - reference.Sum(id => scores[id])) < 1e-9 && ours.Count(id => id == 0) == reference.Count(id => id == 0)
            && tokenizer.Decode(ours) == tokenizer.Decode(reference));
    }

    [Fact]
    public void WordPieceTakesTheLongestPieceAndMarksAnUnmatchableWordUnknown()
    {
        const string json = """
            {"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 10,
                       "vocab": {"[UNK]": 0, "un": 1, "unaff": 2, "##aff": 3, "##able": 4, "##a": 5, "##ble": 6, "x": 7}},
             "pre_tokenizer": {"type": "WhitespaceSplit"}}
            """;
        var tokenizer = HfTokenizer.FromJson(json);
        Assert.Equal([2, 4], tokenizer.Encode("unaffable"));   // "unaff" + "##able", not "un" + "##aff" + …
        Assert.Equal([0], tokenizer.Encode("unq"));                          // "##q" matches nothing: the whole word is unknown
        Assert.Equal([0, 7], tokenizer.Encode("unaffableee x"));             // longer than max_input_chars_per_word
    }

    [Fact]
    public void UnigramPicksTheMostProbableSegmentationAndFusesUnknowns()
    {
        const string json = """
            {"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0], ["a", -2], ["b", -2], ["ab", -3], ["abc", -10], ["c", -2]]}}
            """;
        var tokenizer = HfTokenizer.FromJson(json);
        Assert.Equal([3, 5], tokenizer.Encode("abc"));  // ab + c = -5 beats abc = -10 and a + b + c = -6
        Assert.Equal([1, 0, 2], tokenizer.Encode("axyzb")); // x, y, z are one fused unknown
    }

    [Fact]
    public void UnigramSpellsAnUnknownPieceInBytesWithByteFallback()
    {
        var bytes = string.Join(", ", Enumerable.Range(0, 256).Select(b => $"[\"<0x{b:X2}>\", -20]"));
        var json = $$$"""{"model": {"type": "Unigram", "unk_id": 0, "byte_fallback": true, "vocab": [["<unk>", 0], ["a", -1], {{{bytes}}}]}}""";
        var tokenizer = HfTokenizer.FromJson(json);
        // "é" is not a piece: its UTF-8 bytes C3 A9 are spelled as <0xC3> <0xA9> (ids 2 + byte).
        Assert.Equal([1, 2 + 0xC3, 2 + 0xA9, 1], tokenizer.Encode("aéa"));
    }

    [Theory]
    [InlineData("BertProcessing", "[CLS]", "[SEP]")]
    [InlineData("RobertaProcessing", "<s>", "</s>")]
    public void BertAndRobertaPostProcessorsWrapTheSequence(string type, string cls, string sep)
    {
        var json = $$$"""
            {"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "{{{cls}}}": 1, "{{{sep}}}": 2, "hi": 3}},
             "pre_tokenizer": {"type": "WhitespaceSplit"},
             "post_processor": {"type": "{{{type}}}", "cls": ["{{{cls}}}", 1], "sep": ["{{{sep}}}", 2]}}
            """;
        var tokenizer = HfTokenizer.FromJson(json);
        Assert.Equal([1, 3, 3, 2], tokenizer.Encode("hi hi"));
        Assert.Equal([3, 3], tokenizer.Encode("hi hi", addSpecialTokens: false));
    }

    private static string[] Corpus() => ParityCorpus.Texts.Where(t => t.Length > 0).ToArray();

    private static void AssertEqualsReference(TempDirectory dir, HfTokenizer tokenizer, string[] texts, bool addSpecialTokens,
        Func<int[], int[], bool>? equallyGood = null)
    {
        Assert.True(texts.Length >= 150, $"only {texts.Length} corpus texts are compared");
        var corpus = dir.File("corpus.json");
        File.WriteAllText(corpus, JsonSerializer.Serialize(texts));
        var lines = NodeReference.Run("tokenize.mjs", addSpecialTokens ? [dir.Path, corpus] : [dir.Path, corpus, "--no-special"])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var mismatches = new List<string>();
        for (var i = 0; i < texts.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            var ids = tokenizer.Encode(texts[i], addSpecialTokens);
            if (!ids.SequenceEqual(expected) && !(equallyGood?.Invoke(ids, expected) ?? false))
                mismatches.Add($"encode {JsonSerializer.Serialize(texts[i])}: ours [{string.Join(",", ids)}] reference [{string.Join(",", expected)}]");
            var decoded = tokenizer.Decode(expected);
            if (decoded != doc.RootElement.GetProperty("decoded").GetString())
                mismatches.Add($"decode {JsonSerializer.Serialize(texts[i])}: ours {JsonSerializer.Serialize(decoded)} reference {doc.RootElement.GetProperty("decoded")}");
            var skipped = tokenizer.Decode(expected, skipSpecialTokens: true);
            if (skipped != doc.RootElement.GetProperty("decodedSkip").GetString())
                mismatches.Add($"decode(skip) {JsonSerializer.Serialize(texts[i])}: ours {JsonSerializer.Serialize(skipped)} reference {doc.RootElement.GetProperty("decodedSkip")}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(20)));
    }

    /// <summary>Words of the corpus (lowercased, split at whitespace and punctuation) with their counts, in a fixed order.</summary>
    private static List<(string Word, int Count)> Words(bool lowercase)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in Corpus())
        {
            var word = new System.Text.StringBuilder();
            foreach (var rune in (lowercase ? text.ToLowerInvariant() : text).EnumerateRunes())
            {
                if (System.Text.Rune.IsLetterOrDigit(rune)) { word.Append(rune.ToString()); continue; }
                if (word.Length > 0) { counts[word.ToString()] = counts.GetValueOrDefault(word.ToString()) + 1; word.Clear(); }
            }
            if (word.Length > 0) counts[word.ToString()] = counts.GetValueOrDefault(word.ToString()) + 1;
        }
        return counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)).ToList();
    }

    private static string WordPieceJson()
    {
        var vocab = new JsonObject();
        void Add(string token) { if (!vocab.ContainsKey(token)) vocab[token] = vocab.Count; }
        foreach (var special in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }) Add(special);
        var words = Words(lowercase: true);
        // Single characters seen at least twice (the rest stay unknown), as word starts and continuations.
        var chars = words.SelectMany(w => w.Word.EnumerateRunes().Select(r => (r.ToString(), w.Count)))
            .GroupBy(x => x.Item1).Where(g => g.Sum(x => x.Count) >= 2).Select(g => g.Key).Order(StringComparer.Ordinal).ToList();
        foreach (var c in chars) { Add(c); Add("##" + c); }
        foreach (var p in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¿¡«»。，！？「」") Add(p.ToString());
        // Frequent words whole, and their two- and three-character endings as continuations.
        foreach (var (word, _) in words.Take(400))
        {
            Add(word);
            if (word.Length > 3) { Add("##" + word[^3..]); Add("##" + word[^2..]); Add(word[..3]); }
        }
        var added = new JsonArray();
        foreach (var special in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
            added.Add(new JsonObject { ["id"] = (int)vocab[special]!, ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = JsonNode.Parse("""{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}"""),
            ["pre_tokenizer"] = JsonNode.Parse("""{"type": "BertPreTokenizer"}"""),
            ["post_processor"] = JsonNode.Parse($$"""{"type": "BertProcessing", "sep": ["[SEP]", {{vocab["[SEP]"]}}], "cls": ["[CLS]", {{vocab["[CLS]"]}}]}"""),
            ["decoder"] = JsonNode.Parse("""{"type": "WordPiece", "prefix": "##", "cleanup": true}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100,
                ["vocab"] = vocab,
            },
        }.ToJsonString();
    }

    private static string UnigramJson()
    {
        // Pieces: "▁" + word for frequent words, substrings of 1–4 characters seen at least twice, scored by log frequency.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (word, count) in Words(lowercase: false))
        {
            var runes = word.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (var n = 1; n <= 4; n++)
                for (var i = 0; i + n <= runes.Length; i++)
                {
                    var piece = string.Concat(runes[i..(i + n)]);
                    counts[piece] = counts.GetValueOrDefault(piece) + count;
                }
            counts["▁" + word] = counts.GetValueOrDefault("▁" + word) + count;
        }
        var kept = counts.Where(p => p.Value >= 2).OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take(3000).ToList();
        var total = (double)kept.Sum(p => p.Value);
        var vocab = new JsonArray(
            new JsonArray("<unk>", 0.0), new JsonArray("<s>", 0.0), new JsonArray("</s>", 0.0), new JsonArray("▁", -2.0));
        foreach (var (piece, count) in kept)
            if (piece != "▁") vocab.Add(new JsonArray(piece, Math.Round(Math.Log(count / total), 6)));
        var added = new JsonArray();
        foreach (var (special, id) in new[] { ("<unk>", 0), ("<s>", 1), ("</s>", 2) })
            added.Add(new JsonObject { ["id"] = id, ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}"""),
            ["post_processor"] = JsonNode.Parse("""{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}], "pair": [], "special_tokens": {"</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}}"""),
            ["decoder"] = JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false}"""),
            ["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["vocab"] = vocab, ["byte_fallback"] = false },
        }.ToJsonString();
    }
}
