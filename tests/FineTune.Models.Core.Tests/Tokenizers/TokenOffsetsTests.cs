using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public class TokenOffsetsTests
{
    [Theory]
    [InlineData("llama2")]
    [InlineData("phi-2")]
    public void OffsetsOfEnglishWordsCoverTheWordAndItsLeadingSpace(string name)
    {
        var tokenizer = ReferenceTokenizers.Get(name);
        var encoding = tokenizer.EncodeWithOffsets("Hello world", addSpecialTokens: false);
        Assert.Equal([(0, 5), (5, 11)], encoding.Offsets);
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("phi-2")]
    public void OffsetsAreOrderedAndInsideTheText(string name)
    {
        var tokenizer = ReferenceTokenizers.Get(name);
        foreach (var text in ParityCorpus.Texts)
        {
            var encoding = tokenizer.EncodeWithOffsets(text, addSpecialTokens: false);
            Assert.Equal(encoding.Ids.Length, encoding.Offsets.Length);
            var previousStart = 0;
            foreach (var (start, end) in encoding.Offsets)
            {
                Assert.InRange(start, previousStart, text.Length);
                Assert.InRange(end, start, text.Length);
                previousStart = start;
            }
        }
    }

    [Fact]
    public void SpecialTokensInTextGetTheirExactSpan()
    {
        var tokenizer = ReferenceTokenizers.Get("phi-2");
        const string text = "a<|endoftext|>b";
        var encoding = tokenizer.EncodeWithOffsets(text, addSpecialTokens: false);
        var index = Array.IndexOf(encoding.Ids, 50256);
        Assert.Equal((1, 14), encoding.Offsets[index]);
    }
}
