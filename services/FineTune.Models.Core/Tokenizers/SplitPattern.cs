using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// A pre-tokenizer regular expression evaluated with the semantics of the reference (@huggingface/tokenizers, which
/// runs JavaScript regexes in Unicode mode) on .NET's engine. Two differences matter and are bridged here:
/// <list type="bullet">
/// <item>JavaScript matches code points; .NET matches UTF-16 units, so a letter outside the BMP would look like two
/// surrogates to \p{L}. Text with surrogate pairs is matched on a "shadow" string in which each supplementary
/// code point is replaced by one BMP character of the same Unicode general category, and match positions are mapped back.</item>
/// <item>Patterns written for Oniguruma (tokenizer.json <c>Split</c> regexes) use \s as Unicode White_Space (what .NET's \s is),
/// (?i:…) as ASCII-only folding, and ^/$ as line anchors; the GPT-2 pattern built into the ByteLevel pre-tokenizer uses
/// JavaScript's own \s set instead.</item>
/// </list>
/// </summary>
internal sealed class SplitPattern
{
    private const string JsWhiteSpace = @"\t\n\v\f\r\x20\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000\uFEFF";

    /// <summary>The GPT-2 pattern the ByteLevel pre-tokenizer applies when use_regex is true (JavaScript \s).</summary>
    public static readonly SplitPattern Gpt2 = new(
        $@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{{L}}+| ?\p{{N}}+| ?[^{JsWhiteSpace}\p{{L}}\p{{N}}]+|[{JsWhiteSpace}]+(?![^{JsWhiteSpace}])|[{JsWhiteSpace}]+",
        "ByteLevel GPT-2 pattern");

    // Rust regex's Unicode \w (Alphabetic, marks, decimal digits, connector punctuation, joiners) and \s (White_Space).
    private const string RustWordClass = @"\p{L}\p{Nl}\p{M}\p{Nd}\p{Pc}\u200C\u200D\u24B6-\u24E9";
    private const string RustWhiteSpace = @"\t\n\v\f\r\x20\x85\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";

    /// <summary>The Whitespace pre-tokenizer's pattern, \w+|[^\w\s]+, with the Rust library's Unicode classes.</summary>
    public static readonly SplitPattern RustWords = new(
        $@"[{RustWordClass}]+|[^{RustWordClass}{RustWhiteSpace}]+", "Whitespace pre-tokenizer pattern");

    private readonly Regex _regex;

    private SplitPattern(string dotnetPattern, string source)
    {
        try
        {
            _regex = new Regex(dotnetPattern, RegexOptions.CultureInvariant | RegexOptions.Multiline | RegexOptions.Compiled);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"{source}: the regular expression is not supported: {e.Message}", e);
        }
    }

    /// <summary>A literal string pattern (Split/Replace with {"String": …}).</summary>
    public static SplitPattern Literal(string literal, string source) => new(Regex.Escape(literal), source);

    /// <summary>A tokenizer.json regex (Oniguruma syntax) translated to .NET with the reference's semantics.</summary>
    public static SplitPattern FromOniguruma(string pattern, string source) => new(Translate(pattern), source);

    /// <summary>Non-empty matches as (index, length) in UTF-16 units of <paramref name="text"/>.</summary>
    public List<(int Index, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (!HasSurrogates(text))
        {
            for (var m = _regex.Match(text); m.Success; m = m.NextMatch())
                result.Add((m.Index, m.Length));
            return result;
        }
        // Shadow: one char per code point; map[k] = UTF-16 index of code point k (map[^1] = text.Length).
        var shadow = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length;)
        {
            map.Add(i);
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                shadow.Append(Representative(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i += 2;
            }
            else
            {
                shadow.Append(text[i]);
                i++;
            }
        }
        map.Add(text.Length);
        for (var m = _regex.Match(shadow.ToString()); m.Success; m = m.NextMatch())
        {
            var start = map[m.Index];
            result.Add((start, map[m.Index + m.Length] - start));
        }
        return result;
    }

    private static bool HasSurrogates(string text)
    {
        foreach (var c in text)
            if (char.IsSurrogate(c)) return true;
        return false;
    }

    /// <summary>A BMP character of the same general category (none of them is special in the patterns tokenizers use).</summary>
    private static char Representative(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => 'X',
        UnicodeCategory.LowercaseLetter => 'x',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u4E00',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u09F4',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2010',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u203B',
        UnicodeCategory.MathSymbol => '\u00B1',
        UnicodeCategory.CurrencySymbol => '\u00A2',
        UnicodeCategory.ModifierSymbol => '\u00A8',
        UnicodeCategory.OtherSymbol => '\u00A9',
        UnicodeCategory.Format => '\u00AD',
        UnicodeCategory.PrivateUse => '\uE000',
        _ => '\u0378', // unassigned
    };

    /// <summary>
    /// Oniguruma → .NET for the constructs tokenizer.json files use: (?i:…) folds ASCII letters only (written out as
    /// [aA] classes, since .NET folding is Unicode-wide), everything else (\p{L}, \s, \d as Unicode, lookahead, classes,
    /// counted repetition) has the same meaning in .NET with multiline anchors.
    /// </summary>
    private static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var foldDepth = new Stack<bool>();
        var fold = false;
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[i + 1]);
                i++;
                continue;
            }
            if (inClass)
            {
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            switch (c)
            {
                case '[':
                    inClass = true;
                    sb.Append(c);
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^') { sb.Append('^'); i++; }
                    if (i + 1 < pattern.Length && pattern[i + 1] == ']') { sb.Append(@"\]"); i++; }
                    break;
                case '(':
                    foldDepth.Push(fold);
                    if (string.CompareOrdinal(pattern, i, "(?i:", 0, 4) == 0)
                    {
                        fold = true;
                        sb.Append("(?:");
                        i += 3;
                    }
                    else if (string.CompareOrdinal(pattern, i, "(?>", 0, 3) == 0)
                    {
                        sb.Append("(?:");
                        i += 2;
                    }
                    else sb.Append(c);
                    break;
                case ')':
                    fold = foldDepth.Count > 0 && foldDepth.Pop();
                    sb.Append(c);
                    break;
                default:
                    if (fold && char.IsAsciiLetter(c))
                        sb.Append('[').Append(char.ToLowerInvariant(c)).Append(char.ToUpperInvariant(c)).Append(']');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }
}
