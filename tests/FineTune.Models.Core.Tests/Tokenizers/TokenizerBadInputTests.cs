using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.ChatTemplates.Jinja;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

public class TokenizerBadInputTests
{
    [Fact]
    public void MissingTokenizerJsonNamesTheFolder()
    {
        using var dir = new TempDirectory("tok-missing");
        var e = Assert.Throws<FileNotFoundException>(() => HfTokenizer.FromFolder(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void TruncatedTokenizerJsonNamesTheFileAndLine()
    {
        using var dir = new TempDirectory("tok-truncated");
        TinyTokenizerBuilder.Write(dir.Path);
        var path = dir.File("tokenizer.json");
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..(text.Length / 2)]);

        var e = Assert.Throws<FormatException>(() => HfTokenizer.FromFolder(dir.Path));
        Assert.Contains(path, e.Message);
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void UnsupportedModelTypeIsRefusedByName()
    {
        const string wordLevel = """{"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}, "added_tokens": []}""";
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizer.FromJson(wordLevel));
        Assert.Equal("tokenizer.json: model: model type 'WordLevel' is not supported (supported: BPE, WordPiece, Unigram).", e.Message);
    }

    [Theory]
    [InlineData("""{"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "ByteLevel"}, {"type": "Syllables"}]}}""",
        "pre_tokenizer.pretokenizers[1]: pre_tokenizer type 'Syllables'")]
    [InlineData("""{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled", "precompiled_charsmap": ""}]}}""",
        "normalizer.normalizers[1]: normalizer type 'Precompiled'")]
    [InlineData("""{"decoder": {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Rot13"}]}}""",
        "decoder.decoders[1]: decoder type 'Rot13'")]
    [InlineData("""{"post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel"}, {"type": "Pairwise"}]}}""",
        "post_processor.processors[1]: post_processor type 'Pairwise'")]
    public void AComponentWeLackIsRefusedInOneLineNamingTheFileThePathAndTheType(string component, string expected)
    {
        using var dir = new TempDirectory("tok-unsupported");
        var json = System.Text.Json.Nodes.JsonNode.Parse("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""")!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(component)!.AsObject().ToList())
            json[key] = value?.DeepClone();
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());

        var e = Assert.Throws<NotSupportedException>(() => HfTokenizer.FromFolder(dir.Path));

        Assert.StartsWith(dir.File("tokenizer.json") + ": " + expected + " is not supported (supported: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"type": "Split", "pattern": {"String": "-"}, "behavior": "MergedSideways"}""", "behavior 'MergedSideways'")]
    [InlineData("""{"type": "Split", "behavior": "Isolated"}""", "\"pattern\" is required")]
    [InlineData("""{"type": "CharDelimiterSplit", "delimiter": "ab"}""", "\"delimiter\" must be a single character")]
    [InlineData("""{"behavior": "Isolated"}""", "pre_tokenizer has no \"type\"")]
    public void AMalformedComponentNamesItsPathAndField(string preTokenizer, string expected)
    {
        var json = $$"""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {{preTokenizer}}}""";
        var e = Assert.Throws<FormatException>(() => HfTokenizer.FromJson(json));
        Assert.StartsWith("tokenizer.json: pre_tokenizer", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void MalformedMergeNamesItsIndex()
    {
        const string json = """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b", "ab"]}}""";
        var e = Assert.Throws<FormatException>(() => HfTokenizer.FromJson(json));
        Assert.Contains("merges[1]", e.Message);
    }

    [Theory]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": {}}}""", "\"merges\" must be an array")]
    [InlineData("""{"model": {"type": "BPE", "vocab": [], "merges": []}}""", "model.vocab must be an object")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}}""", "model.vocab[\"a\"] must be a non-negative integer id")]
    [InlineData("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", 1]]}}""", "merges[0]")]
    public void ABpeModelOfTheWrongShapeIsAFormatErrorNamingTheField(string json, string expected)
    {
        var e = Assert.Throws<FormatException>(() => HfTokenizer.FromJson(json));
        Assert.StartsWith("tokenizer.json", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AChatTemplateThatDoesNotParseNamesTheProblem()
    {
        var e = Assert.Throws<FormatException>(() => ChatTemplate.FromString("{% for m in messages %}{{ m.content }}"));
        Assert.Contains("endfor", e.Message);
    }

    [Fact]
    public void RaiseExceptionInATemplateSurfacesItsMessage()
    {
        var template = ChatTemplate.FromString(BuiltInTemplates.Llama2, "<s>", "</s>");
        var e = Assert.Throws<JinjaException>(() => template.Render([new("assistant", "first")], false));
        Assert.Contains("alternate", e.Message);
    }
}

public class NormalizerTests
{
    [Fact]
    public void NfcNormalizerComposesAndKeepsOffsetsOnTheOriginalCharacters()
    {
        // Vocabulary of single characters; NFC turns "e" + U+0301 into "é" (Qwen2 tokenizers use this normalizer).
        const string json = """
            {"model": {"type": "BPE", "vocab": {"a": 0, "é": 1, "e": 2, "\u0301": 3}, "merges": []},
             "normalizer": {"type": "NFC"}}
            """;
        var tokenizer = HfTokenizer.FromJson(json);
        var encoding = tokenizer.EncodeWithOffsets("ae\u0301a");
        Assert.Equal([0, 1, 0], encoding.Ids);
        Assert.Equal([(0, 1), (1, 3), (3, 4)], encoding.Offsets);
    }
}
