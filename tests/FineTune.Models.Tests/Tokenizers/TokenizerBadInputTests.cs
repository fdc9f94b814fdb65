using FineTune.Models.ChatTemplates;
using FineTune.Models.ChatTemplates.Jinja;
using FineTune.Models.Tokenizers;

namespace FineTune.Models.Tests.Tokenizers;

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
        const string unigram = """{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}, "added_tokens": []}""";
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizer.FromJson(unigram));
        Assert.Contains("Unigram", e.Message);
    }

    [Fact]
    public void UnsupportedPreTokenizerIsRefusedByName()
    {
        const string json = """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "BertPreTokenizer"}}""";
        var e = Assert.Throws<NotSupportedException>(() => HfTokenizer.FromJson(json));
        Assert.Contains("BertPreTokenizer", e.Message);
    }

    [Fact]
    public void MalformedMergeNamesItsIndex()
    {
        const string json = """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b", "ab"]}}""";
        var e = Assert.Throws<FormatException>(() => HfTokenizer.FromJson(json));
        Assert.Contains("merges[1]", e.Message);
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
