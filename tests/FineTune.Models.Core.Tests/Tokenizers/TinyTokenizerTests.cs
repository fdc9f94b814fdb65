using System.Text.Json;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

public class TinyTokenizerTests
{
    [Fact]
    public void TheReferenceLoadsTheTinyTokenizerAndEncodesTheCorpusIdentically()
    {
        using var dir = new TempDirectory("tiny-tok");
        TinyTokenizerBuilder.Write(dir.Path);
        var tokenizer = HfTokenizer.FromFolder(dir.Path);
        var texts = ParityCorpus.Texts.Where(t => t.Length > 0).ToArray();
        var corpus = dir.File("corpus.json");
        File.WriteAllText(corpus, JsonSerializer.Serialize(texts));

        var lines = NodeReference.Run("tokenize.mjs", dir.Path, corpus).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(texts.Length, lines.Length);
        for (var i = 0; i < texts.Length; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.Equal(expected, tokenizer.Encode(texts[i]));
            Assert.Equal(doc.RootElement.GetProperty("decoded").GetString(), tokenizer.Decode(expected));
        }
    }

    [Fact]
    public void BuildingTwiceGivesByteIdenticalFiles()
    {
        using var a = new TempDirectory("tiny-a");
        using var b = new TempDirectory("tiny-b");
        var info = TinyTokenizerBuilder.Write(a.Path);
        TinyTokenizerBuilder.Write(b.Path);
        Assert.Equal(TinyTokenizerBuilder.DefaultMerges, info.MergeCount);
        Assert.Equal(File.ReadAllBytes(a.File("tokenizer.json")), File.ReadAllBytes(b.File("tokenizer.json")));
        Assert.Equal(File.ReadAllBytes(a.File("tokenizer_config.json")), File.ReadAllBytes(b.File("tokenizer_config.json")));
    }

    [Fact]
    public void VocabularyIsContiguousWithChatMlSpecialTokensAtTheEnd()
    {
        using var dir = new TempDirectory("tiny-vocab");
        var info = TinyTokenizerBuilder.Write(dir.Path, merges: 300);
        var tokenizer = HfTokenizer.FromFolder(dir.Path);

        Assert.Equal(300, info.MergeCount);
        Assert.Equal(info.VocabSize, tokenizer.VocabSize);
        for (var id = 0; id < info.VocabSize; id++) Assert.NotNull(tokenizer.IdToToken(id));
        Assert.Equal(info.ImEndId, tokenizer.EosId);
        Assert.Equal(info.EndOfTextId, tokenizer.PadId);
        Assert.NotEqual(tokenizer.PadId, tokenizer.EosId);
        Assert.Null(tokenizer.BosId);
        Assert.Equal([info.ImStartId], tokenizer.Encode("<|im_start|>"));
        Assert.Equal("byte-level BPE", tokenizer.Kind);
        // Every merge shortens common words of the corpus: the built-in corpus' own words take few tokens.
        Assert.Single(tokenizer.Encode(" the"));
    }

    [Fact]
    public void TheTinyFolderRendersChatMl()
    {
        using var dir = new TempDirectory("tiny-chat");
        TinyTokenizerBuilder.Write(dir.Path);
        var template = ChatTemplate.FromFolder(dir.Path);

        var text = template.Render([new("user", "Hi"), new("assistant", "Hello")], addGenerationPrompt: false);

        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n", text);
    }

    [Fact]
    public void MergesAreLearnedFromAGivenCorpus()
    {
        using var dir = new TempDirectory("tiny-corpus");
        var info = TinyTokenizerBuilder.Write(dir.Path, ["banana bandana banana bandana"], merges: 50);
        var tokenizer = HfTokenizer.FromFolder(dir.Path);

        Assert.True(info.MergeCount < 50, "a tiny corpus runs out of pairs");
        Assert.Single(tokenizer.Encode(" bandana"));
        Assert.Single(tokenizer.Encode("banana"));
    }
}
