using System.Text.Json;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.Tokenizers;

/// <summary>
/// Normalizers and pre-tokenizers one by one against the behaviour the Rust tokenizers library specifies (its
/// documentation's examples and rules, worked out by hand here): the five Split behaviors with and without invert,
/// Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, Digits, CharDelimiterSplit, Metaspace, FixedLength;
/// StripAccents, BertNormalizer, Lowercase, Strip, Prepend, Replace, NFKC.
/// </summary>
public class ComponentSpecTests
{
    internal static string[] PreTokenize(string componentJson, string text, int sectionIndex = 0)
    {
        using var doc = JsonDocument.Parse(componentJson);
        var preTokenizer = PreTokenizer.FromJson(doc.RootElement, "test.json")!;
        var output = new List<AlignedString>();
        preTokenizer.PreTokenize(AlignedString.Original(text, 0, text.Length), sectionIndex, output);
        return output.Select(w => w.Text).ToArray();
    }

    internal static string Normalize(string componentJson, string text)
    {
        using var doc = JsonDocument.Parse(componentJson);
        return Normalizer.FromJson(doc.RootElement, "test.json")!.Normalize(text);
    }

    [Theory]
    [InlineData("Removed", false, "the|final|countdown")]
    [InlineData("Isolated", false, "the|-|final|-|-|countdown")]
    [InlineData("MergedWithPrevious", false, "the-|final-|-|countdown")]
    [InlineData("MergedWithNext", false, "the|-final|-|-countdown")]
    [InlineData("Contiguous", false, "the|-|final|--|countdown")]
    // invert: the pattern's matches are the content and the rest are the delimiters (Contiguous then joins the two
    // adjacent non-delimiters "-" "-", as the Rust library's rule "same kind as the previous segment" does).
    [InlineData("Removed", true, "-|-|-")]
    [InlineData("Isolated", true, "the|-|final|-|-|countdown")]
    [InlineData("MergedWithPrevious", true, "the|-final|-|-countdown")]
    [InlineData("MergedWithNext", true, "the-|final-|-|countdown")]
    [InlineData("Contiguous", true, "the|-|final|--|countdown")]
    public void SplitWithAStringPatternFollowsEachBehavior(string behavior, bool invert, string expected)
    {
        var json = $$"""{"type": "Split", "pattern": {"String": "-"}, "behavior": "{{behavior}}", "invert": {{(invert ? "true" : "false")}}}""";
        Assert.Equal(expected.Split('|'), PreTokenize(json, "the-final--countdown"));
    }

    [Theory]
    [InlineData("Removed", "Hey|friend")]
    [InlineData("Isolated", "Hey| |friend|!")]
    [InlineData("MergedWithPrevious", "Hey |friend!")]
    [InlineData("MergedWithNext", "Hey| friend|!")]
    [InlineData("Contiguous", "Hey| |friend|!")]
    public void SplitWithARegexPatternFollowsEachBehavior(string behavior, string expected)
    {
        var json = $$"""{"type": "Split", "pattern": {"Regex": "\\s+|!"}, "behavior": "{{behavior}}"}""";
        Assert.Equal(expected.Split('|'), PreTokenize(json, "Hey friend!"));
    }

    [Fact]
    public void ContiguousMergesAdjacentRegexMatches()
    {
        // Each "a" is its own match; Contiguous joins the run, Isolated keeps them apart.
        Assert.Equal(["x", "aaa", "y"], PreTokenize("""{"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Contiguous"}""", "xaaay"));
        Assert.Equal(["x", "a", "a", "a", "y"], PreTokenize("""{"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Isolated"}""", "xaaay"));
    }

    [Theory]
    [InlineData("Isolated", "Hey|,| you|!|!| ok|?")]
    [InlineData("Contiguous", "Hey|,| you|!!| ok|?")]
    [InlineData("Removed", "Hey| you| ok")]
    [InlineData("MergedWithPrevious", "Hey,| you!|!| ok?")]
    [InlineData("MergedWithNext", "Hey|, you|!|! ok|?")]
    public void PunctuationSplitsOnAsciiAndUnicodePunctuation(string behavior, string expected)
    {
        Assert.Equal(expected.Split('|'), PreTokenize($$"""{"type": "Punctuation", "behavior": "{{behavior}}"}""", "Hey, you!! ok?"));
        Assert.Equal(["a", "¿", "b", "«", "c", "»", "$", "d"], PreTokenize("""{"type": "Punctuation"}""", "a¿b«c»$d"));
        Assert.Equal(["Hey", ",", " you"], PreTokenize("""{"type": "Punctuation"}""", "Hey, you"));
    }

    [Fact]
    public void WhitespaceAndWhitespaceSplitFollowTheirRules()
    {
        Assert.Equal(["Hey", "man", "!", "Good", "?"], PreTokenize("""{"type": "Whitespace"}""", "Hey man!  Good?"));
        // \w is Unicode in the Rust library: accented letters and CJK stay inside words; a run of symbols is one piece.
        Assert.Equal(["café", "naïve", "北京", "?!", "x_1"], PreTokenize("""{"type": "Whitespace"}""", "café naïve\t北京?! x_1"));
        Assert.Equal(["Hey", "man!", "Good?"], PreTokenize("""{"type": "WhitespaceSplit"}""", " Hey\u00A0man!\n\u3000Good? "));
    }

    [Fact]
    public void BertPreTokenizerSplitsOnWhitespaceAndIsolatesEachPunctuationCharacter()
    {
        Assert.Equal(["Hey", ",", "you", "!", "!", "don", "'", "t", "北京"], PreTokenize("""{"type": "BertPreTokenizer"}""", "  Hey, you!! don't 北京 "));
    }

    [Theory]
    [InlineData(false, "Call |123| please, |456")]
    [InlineData(true, "Call |1|2|3| please, |4|5|6")]
    public void DigitsSplitsAsciiDigitRunsOrEachDigit(bool individual, string expected)
    {
        var json = $$"""{"type": "Digits", "individual_digits": {{(individual ? "true" : "false")}}}""";
        Assert.Equal(expected.Split('|'), PreTokenize(json, "Call 123 please, 456"));
        // Only ASCII digits split: Arabic-Indic digits stay in the text around them.
        Assert.Equal(["a٣b"], PreTokenize(json, "a٣b"));
    }

    [Fact]
    public void CharDelimiterSplitRemovesTheDelimiter()
    {
        Assert.Equal(["a", "b", "c d"], PreTokenize("""{"type": "CharDelimiterSplit", "delimiter": "|"}""", "a|b||c d|"));
        Assert.Equal(["x", "y"], PreTokenize("""{"type": "CharDelimiterSplit", "delimiter": "😀"}""", "x😀y"));
    }

    [Theory]
    [InlineData("always", true, 0, "▁Hey|▁friend!|▁▁|▁x")]
    [InlineData("always", false, 0, "▁Hey▁friend!▁▁▁x")]
    [InlineData("never", true, 0, "Hey|▁friend!|▁▁|▁x")]
    [InlineData("first", true, 0, "▁Hey|▁friend!|▁▁|▁x")]
    [InlineData("first", true, 1, "Hey|▁friend!|▁▁|▁x")]
    public void MetaspaceReplacesSpacesPrependsBySchemeAndSplitsBeforeEachReplacement(string scheme, bool split, int section, string expected)
    {
        var json = $$"""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "{{scheme}}", "split": {{(split ? "true" : "false")}}}""";
        // MergedWithNext: a run of replacements keeps only its last one with the word after it.
        var want = expected.Split('|').SelectMany(p => p == "▁▁" ? new[] { "▁", "▁" } : [p]).ToArray();
        Assert.Equal(want, PreTokenize(json, "Hey friend!   x", section));
    }

    [Theory]
    [InlineData("どこで生れ。Yes", "どこで生れ|。|Yes")]             // kana count as Han; 。 is Common
    [InlineData("Apples are りんご 林檎", "Apples are |りんご 林檎")] // a space stays with the piece before it
    [InlineData("Hello, world 42", "Hello|, |world |42")]           // punctuation and digits are Common
    [InlineData("  leading", "leading")]                             // text before the first non-space is dropped
    [InlineData("Привет мир and ελληνικά", "Привет мир |and |ελληνικά")]
    public void UnicodeScriptsSplitsWhereTheScriptChanges(string text, string expected) =>
        Assert.Equal(expected.Split('|'), PreTokenize("""{"type": "UnicodeScripts"}""", text));

    [Fact]
    public void SequenceAndFixedLengthCompose()
    {
        const string json = """{"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "FixedLength", "length": 3}]}""";
        Assert.Equal(["abc", "de", "😀😀x", "y"], PreTokenize(json, "abcde 😀😀xy"));
    }

    [Fact]
    public void NormalizersFollowTheirRules()
    {
        Assert.Equal("cafe naive", Normalize("""{"type": "StripAccents"}""", "cafe\u0301 nai\u0308ve"));
        Assert.Equal("hello", Normalize("""{"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}]}""", "HÉLLO"));
        Assert.Equal("ﬁ", Normalize("""{"type": "NFC"}""", "ﬁ"));
        Assert.Equal("fi 1/2 A 2", Normalize("""{"type": "NFKC"}""", "ﬁ 1⁄2 Ａ ²").Replace("\u2044", "/"));
        Assert.Equal("x y", Normalize("""{"type": "Strip", "strip_left": true, "strip_right": true}""", "\t x y \n"));
        Assert.Equal("▁a▁b", Normalize("""{"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}""", "a b"));
        Assert.Equal("a-b-c", Normalize("""{"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": "-"}""", "a \t b\n\nc"));
    }

    [Fact]
    public void BertNormalizerCleansPadsChineseStripsAccentsAndLowercases()
    {
        const string bert = """{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true}""";
        // Control characters and U+FFFD are dropped, tabs/newlines/NBSP become spaces, each ideograph gets spaces around it.
        Assert.Equal("hello world  北  京  cafe", Normalize(bert, "Hello\u0007\tWorld\uFFFD\u00A0北京 Café"));
        const string cased = """{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false, "strip_accents": null, "lowercase": false}""";
        Assert.Equal("Café 北京", Normalize(cased, "Café 北京"));
    }

    [Fact]
    public void BertCleanTextDropsControlFormatAndPrivateUseButKeepsUnassignedCodePoints()
    {
        const string bert = """{"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": false, "strip_accents": false, "lowercase": false}""";
        // Cc, Cf and Co go (as in both the Rust and the JavaScript library); Cn (U+0378, U+FFFE) stays, to become [UNK].
        Assert.Equal("ab", Normalize(bert, "a\u0007\u200b\ue000\U000F0000b"));
        Assert.Equal("a\u0378\ufffeb", Normalize(bert, "a\u0378\ufffeb"));
    }

    [Fact]
    public void LowercaseUsesTheFullMappingCharacterByCharacter()
    {
        // İ has a two-character lowercase (i + combining dot above); Σ lowercases to σ wherever it stands, as Rust's
        // char::to_lowercase gives (no final-sigma context in HF tokenizers' Lowercase).
        Assert.Equal("i\u0307stanbul οδοσ", Normalize("""{"type": "Lowercase"}""", "İSTANBUL ΟΔΟΣ"));
    }
}
