// Unicode's full case mappings where they differ from the one-to-one mappings of .NET's invariant ToUpper/ToLower: the
// unconditional multi-character entries of SpecialCasing.txt (ß → SS, ﬁ → FI, ŉ → ʼN, Greek with ypogegrammeni…;
// İ → i̇) and its Final_Sigma condition. JavaScript's toUpperCase/toLowerCase apply all of them (@huggingface/jinja,
// the chat-template reference); Rust's char::to_lowercase applies the multi-character ones without Final_Sigma (HF
// tokenizers' Lowercase normalizer). The table lists every code point whose uppercase is longer than one character in
// the Unicode Character Database (data, generated, not code), plus dotless ı, whose uppercase I .NET's invariant
// culture omits. Checked code point by code point against Node's toUpperCase/toLowerCase: the only other differences
// are characters added in Unicode 16, which .NET 10's tables predate.
using System.Buffers;
using System.Globalization;
using System.Text;

namespace FineTune.Models.Core.Tokenizers;

public static class UnicodeFullCase
{
    /// <summary>Every code point whose uppercase is longer than one character, and ı → I, which .NET's invariant culture leaves alone.</summary>
    private static readonly Dictionary<char, string> UpperBeyondInvariant = new()
    {
        ['\u0131'] = "I",
        ['\u00df'] = "\u0053\u0053", ['\u0149'] = "\u02bc\u004e", ['\u01f0'] = "\u004a\u030c", ['\u0390'] = "\u0399\u0308\u0301", ['\u03b0'] = "\u03a5\u0308\u0301", ['\u0587'] = "\u0535\u0552",
        ['\u1e96'] = "\u0048\u0331", ['\u1e97'] = "\u0054\u0308", ['\u1e98'] = "\u0057\u030a", ['\u1e99'] = "\u0059\u030a", ['\u1e9a'] = "\u0041\u02be", ['\u1f50'] = "\u03a5\u0313",
        ['\u1f52'] = "\u03a5\u0313\u0300", ['\u1f54'] = "\u03a5\u0313\u0301", ['\u1f56'] = "\u03a5\u0313\u0342", ['\u1f80'] = "\u1f08\u0399", ['\u1f81'] = "\u1f09\u0399", ['\u1f82'] = "\u1f0a\u0399",
        ['\u1f83'] = "\u1f0b\u0399", ['\u1f84'] = "\u1f0c\u0399", ['\u1f85'] = "\u1f0d\u0399", ['\u1f86'] = "\u1f0e\u0399", ['\u1f87'] = "\u1f0f\u0399", ['\u1f88'] = "\u1f08\u0399",
        ['\u1f89'] = "\u1f09\u0399", ['\u1f8a'] = "\u1f0a\u0399", ['\u1f8b'] = "\u1f0b\u0399", ['\u1f8c'] = "\u1f0c\u0399", ['\u1f8d'] = "\u1f0d\u0399", ['\u1f8e'] = "\u1f0e\u0399",
        ['\u1f8f'] = "\u1f0f\u0399", ['\u1f90'] = "\u1f28\u0399", ['\u1f91'] = "\u1f29\u0399", ['\u1f92'] = "\u1f2a\u0399", ['\u1f93'] = "\u1f2b\u0399", ['\u1f94'] = "\u1f2c\u0399",
        ['\u1f95'] = "\u1f2d\u0399", ['\u1f96'] = "\u1f2e\u0399", ['\u1f97'] = "\u1f2f\u0399", ['\u1f98'] = "\u1f28\u0399", ['\u1f99'] = "\u1f29\u0399", ['\u1f9a'] = "\u1f2a\u0399",
        ['\u1f9b'] = "\u1f2b\u0399", ['\u1f9c'] = "\u1f2c\u0399", ['\u1f9d'] = "\u1f2d\u0399", ['\u1f9e'] = "\u1f2e\u0399", ['\u1f9f'] = "\u1f2f\u0399", ['\u1fa0'] = "\u1f68\u0399",
        ['\u1fa1'] = "\u1f69\u0399", ['\u1fa2'] = "\u1f6a\u0399", ['\u1fa3'] = "\u1f6b\u0399", ['\u1fa4'] = "\u1f6c\u0399", ['\u1fa5'] = "\u1f6d\u0399", ['\u1fa6'] = "\u1f6e\u0399",
        ['\u1fa7'] = "\u1f6f\u0399", ['\u1fa8'] = "\u1f68\u0399", ['\u1fa9'] = "\u1f69\u0399", ['\u1faa'] = "\u1f6a\u0399", ['\u1fab'] = "\u1f6b\u0399", ['\u1fac'] = "\u1f6c\u0399",
        ['\u1fad'] = "\u1f6d\u0399", ['\u1fae'] = "\u1f6e\u0399", ['\u1faf'] = "\u1f6f\u0399", ['\u1fb2'] = "\u1fba\u0399", ['\u1fb3'] = "\u0391\u0399", ['\u1fb4'] = "\u0386\u0399",
        ['\u1fb6'] = "\u0391\u0342", ['\u1fb7'] = "\u0391\u0342\u0399", ['\u1fbc'] = "\u0391\u0399", ['\u1fc2'] = "\u1fca\u0399", ['\u1fc3'] = "\u0397\u0399", ['\u1fc4'] = "\u0389\u0399",
        ['\u1fc6'] = "\u0397\u0342", ['\u1fc7'] = "\u0397\u0342\u0399", ['\u1fcc'] = "\u0397\u0399", ['\u1fd2'] = "\u0399\u0308\u0300", ['\u1fd3'] = "\u0399\u0308\u0301", ['\u1fd6'] = "\u0399\u0342",
        ['\u1fd7'] = "\u0399\u0308\u0342", ['\u1fe2'] = "\u03a5\u0308\u0300", ['\u1fe3'] = "\u03a5\u0308\u0301", ['\u1fe4'] = "\u03a1\u0313", ['\u1fe6'] = "\u03a5\u0342", ['\u1fe7'] = "\u03a5\u0308\u0342",
        ['\u1ff2'] = "\u1ffa\u0399", ['\u1ff3'] = "\u03a9\u0399", ['\u1ff4'] = "\u038f\u0399", ['\u1ff6'] = "\u03a9\u0342", ['\u1ff7'] = "\u03a9\u0342\u0399", ['\u1ffc'] = "\u03a9\u0399",
        ['\ufb00'] = "\u0046\u0046", ['\ufb01'] = "\u0046\u0049", ['\ufb02'] = "\u0046\u004c", ['\ufb03'] = "\u0046\u0046\u0049", ['\ufb04'] = "\u0046\u0046\u004c", ['\ufb05'] = "\u0053\u0054",
        ['\ufb06'] = "\u0053\u0054", ['\ufb13'] = "\u0544\u0546", ['\ufb14'] = "\u0544\u0535", ['\ufb15'] = "\u0544\u053b", ['\ufb16'] = "\u054e\u0546", ['\ufb17'] = "\u0544\u053d",
    };

    private static readonly SearchValues<char> SpecialUpper = SearchValues.Create([.. UpperBeyondInvariant.Keys]);

    private const char CapitalDottedI = '\u0130';
    private const char CapitalSigma = '\u03a3';

    /// <summary>String.prototype.toUpperCase: the full uppercase mapping of every character.</summary>
    public static string ToUpper(string s)
    {
        if (s.AsSpan().IndexOfAny(SpecialUpper) < 0) return s.ToUpperInvariant();
        var sb = new StringBuilder(s.Length + 8);
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (!UpperBeyondInvariant.TryGetValue(s[i], out var upper)) continue;
            sb.Append(s[start..i].ToUpperInvariant()).Append(upper);
            start = i + 1;
        }
        return sb.Append(s[start..].ToUpperInvariant()).ToString();
    }

    /// <summary>
    /// The full lowercase mapping: İ becomes i + combining dot above; with <paramref name="finalSigma"/> (JavaScript's
    /// toLowerCase), Σ at the end of a word becomes ς, else σ.
    /// </summary>
    public static string ToLower(string s, bool finalSigma)
    {
        if (s.AsSpan().IndexOfAny(CapitalDottedI, CapitalSigma) < 0) return s.ToLowerInvariant();
        var sb = new StringBuilder(s.Length + 4);
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] is not (CapitalDottedI or CapitalSigma)) continue;
            sb.Append(s[start..i].ToLowerInvariant());
            sb.Append(s[i] == CapitalDottedI ? "i\u0307" : finalSigma && EndsWord(s, i) ? "\u03c2" : "\u03c3");
            start = i + 1;
        }
        return sb.Append(s[start..].ToLowerInvariant()).ToString();
    }

    /// <summary>Final_Sigma: a cased letter before position <paramref name="i"/> and none after it (case-ignorable characters skipped).</summary>
    private static bool EndsWord(string s, int i) => CasedBefore(s, i) && !CasedAfter(s, i + 1);

    private static bool CasedBefore(string s, int end)
    {
        while (end > 0)
        {
            var start = end >= 2 && char.IsSurrogatePair(s[end - 2], s[end - 1]) ? end - 2 : end - 1;
            if (!IsCaseIgnorable(s, start)) return IsCased(s, start);
            end = start;
        }
        return false;
    }

    private static bool CasedAfter(string s, int start)
    {
        while (start < s.Length)
        {
            if (!IsCaseIgnorable(s, start)) return IsCased(s, start);
            start += char.IsSurrogatePair(s, start) ? 2 : 1;
        }
        return false;
    }

    private static bool IsCased(string s, int i) =>
        CharUnicodeInfo.GetUnicodeCategory(s, i) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    /// <summary>Case_Ignorable: marks, format characters, modifiers, and the apostrophes and word-internal punctuation of Word_Break.</summary>
    private static bool IsCaseIgnorable(string s, int i) =>
        s[i] is '\'' or '.' or ':' or '\u00b7' or '\u0387' or '\u055f' or '\u05f4' or '\u2018' or '\u2019' or '\u2024' or '\u2027'
            or '\ufe13' or '\ufe52' or '\ufe55' or '\uff07' or '\uff0e' or '\uff1a'
        || CharUnicodeInfo.GetUnicodeCategory(s, i) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;
}
