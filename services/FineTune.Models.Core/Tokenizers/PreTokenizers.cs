using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The tokenizer.json "pre_tokenizer" stage: splits a normalized section into words that the model never crosses.
/// Semantics are the Rust tokenizers library's (the specification); where @huggingface/tokenizers (the JavaScript port
/// the parity tests run) differs, the difference is asserted in ComponentDifferenceTests. Types: Sequence, ByteLevel,
/// Split (regex or string, all five behaviors, invert), Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer,
/// Digits, CharDelimiterSplit, Metaspace (prepend_scheme, split), Replace, FixedLength, UnicodeScripts.
/// </summary>
internal abstract class PreTokenizer
{
    public const string Supported =
        "Sequence, ByteLevel, Split, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, Digits, CharDelimiterSplit, Metaspace, Replace, FixedLength, UnicodeScripts";

    public abstract void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output);

    /// <summary>Builds the pre-tokenizer at JSON path <paramref name="path"/> of <paramref name="source"/>.</summary>
    public static PreTokenizer? FromJson(JsonElement json, string source, string path = "pre_tokenizer")
    {
        if (json.ValueKind == JsonValueKind.Null || json.ValueKind == JsonValueKind.Undefined) return null;
        var type = Json.Type(json, source, path);
        var where = $"{source}: {path} ({type})";
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(Json.Array(json, "pretokenizers", where)
                .Select((p, i) => FromJson(p, source, $"{path}.pretokenizers[{i}]")).OfType<PreTokenizer>().ToArray()),
            "ByteLevel" => new ByteLevelPreTokenizer(Json.Bool(json, "add_prefix_space", false), Json.Bool(json, "use_regex", true)),
            "Split" => new SplitPreTokenizer(Json.Pattern(Json.Required(json, "pattern", where), where),
                SplitDelimiter.Parse(Json.String(json, "behavior") ?? "Isolated", where), Json.Bool(json, "invert", false)),
            "Punctuation" => new PredicatePreTokenizer(SplitDelimiter.IsPunctuation,
                SplitDelimiter.Parse(Json.String(json, "behavior") ?? "Isolated", where)),
            "WhitespaceSplit" => new PredicatePreTokenizer(SplitDelimiter.IsWhiteSpace, SplitBehavior.Removed),
            "Whitespace" => new SplitPreTokenizer(SplitPattern.RustWords, SplitBehavior.Removed, invert: true),
            "BertPreTokenizer" => new SequencePreTokenizer([
                new PredicatePreTokenizer(SplitDelimiter.IsWhiteSpace, SplitBehavior.Removed),
                new PredicatePreTokenizer(SplitDelimiter.IsPunctuation, SplitBehavior.Isolated)]),
            "Digits" => new PredicatePreTokenizer(cp => cp is >= '0' and <= '9',
                Json.Bool(json, "individual_digits", false) ? SplitBehavior.Isolated : SplitBehavior.Contiguous),
            "CharDelimiterSplit" => new PredicatePreTokenizer(CharDelimiter(json, where), SplitBehavior.Removed),
            "Metaspace" => new MetaspacePreTokenizer(Json.String(json, "replacement") ?? "\u2581",
                Json.String(json, "prepend_scheme") ?? (Json.Bool(json, "add_prefix_space", true) ? "always" : "never"),
                Json.Bool(json, "split", true)),
            "Replace" => new ReplacePreTokenizer(new ReplaceNormalizer(Json.Pattern(Json.Required(json, "pattern", where), where),
                Json.String(json, "content") ?? "")),
            "UnicodeScripts" => new UnicodeScriptsPreTokenizer(where),
            "FixedLength" => new FixedLengthPreTokenizer(json.TryGetProperty("length", out var n) && n.TryGetInt32(out var length) && length > 0
                ? length : throw new FormatException($"{where}: \"length\" must be a positive integer.")),
            _ => throw Json.Unsupported(source, path, "pre_tokenizer", type, Supported),
        };
    }

    private static Func<int, bool> CharDelimiter(JsonElement json, string where)
    {
        var delimiter = Json.String(json, "delimiter");
        if (delimiter is null || delimiter.EnumerateRunes().Count() != 1)
            throw new FormatException($"{where}: \"delimiter\" must be a single character.");
        var cp = char.ConvertToUtf32(delimiter, 0);
        return c => c == cp;
    }
}

internal sealed class SequencePreTokenizer(PreTokenizer[] steps) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        var current = new List<AlignedString> { text };
        foreach (var step in steps)
        {
            var next = new List<AlignedString>();
            foreach (var piece in current) step.PreTokenize(piece, sectionIndex, next);
            current = next;
        }
        output.AddRange(current);
    }
}

internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        if (addPrefixSpace && !text.Text.StartsWith(' ')) text = text.Prepend(" ");
        if (!useRegex)
        {
            output.Add(ToBytes(text));
            return;
        }
        foreach (var (index, length) in SplitPattern.Gpt2.Matches(text.Text))
            output.Add(ToBytes(text.Slice(index, index + length)));
    }

    /// <summary>UTF-8 bytes of the text as byte-level characters, each aligned to the character it came from.</summary>
    internal static AlignedString ToBytes(AlignedString text)
    {
        var s = text.Text;
        if (text.IsIdentity && s.All(char.IsAscii))
        {
            // ASCII is one byte per character, so the alignment stays the identity.
            return text.WithSameLengthText(string.Create(s.Length, s, static (span, src) =>
            {
                for (var i = 0; i < src.Length; i++) span[i] = ByteLevelAlphabet.Encode((byte)src[i]);
            }));
        }
        var sb = new StringBuilder(s.Length * 2);
        var start = new List<int>(s.Length * 2);
        var end = new List<int>(s.Length * 2);
        Span<byte> buffer = stackalloc byte[4];
        for (var i = 0; i < s.Length;)
        {
            var n = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;
            var bytes = Encoding.UTF8.GetBytes(s.AsSpan(i, n), buffer);
            var (a, b) = text.Span(i, i + n);
            for (var k = 0; k < bytes; k++)
            {
                sb.Append(ByteLevelAlphabet.Encode(buffer[k]));
                start.Add(a);
                end.Add(b);
            }
            i += n;
        }
        return new AlignedString(sb.ToString(), [.. start], [.. end]);
    }
}

internal sealed class SplitPreTokenizer(SplitPattern pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output) =>
        SplitDelimiter.Apply(text, SplitDelimiter.FromMatches(text.Length, pattern.Matches(text.Text)), behavior, invert, output);
}

/// <summary>Splits on every code point the predicate accepts (Punctuation, WhitespaceSplit, Digits, CharDelimiterSplit).</summary>
internal sealed class PredicatePreTokenizer(Func<int, bool> isDelimiter, SplitBehavior behavior) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output) =>
        SplitDelimiter.Apply(text, SplitDelimiter.FromPredicate(text.Text, isDelimiter), behavior, invert: false, output);
}

internal sealed class MetaspacePreTokenizer(string replacement, string prependScheme, bool split) : PreTokenizer
{
    private readonly SplitPattern _space = SplitPattern.Literal(" ", "Metaspace");
    private readonly SplitPattern _replacement = SplitPattern.Literal(replacement, "Metaspace");

    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        var replaced = new ReplaceNormalizer(_space, replacement).Normalize(text);
        if (!replaced.Text.StartsWith(replacement, StringComparison.Ordinal)
            && (prependScheme == "always" || (prependScheme == "first" && sectionIndex == 0)))
            replaced = replaced.Prepend(replacement);
        if (!split)
        {
            output.Add(replaced);
            return;
        }
        // Rust splits before each replacement character, keeping it at the start of the word that follows.
        SplitDelimiter.Apply(replaced, SplitDelimiter.FromMatches(replaced.Length, _replacement.Matches(replaced.Text)),
            SplitBehavior.MergedWithNext, invert: false, output);
    }
}

internal sealed class ReplacePreTokenizer(ReplaceNormalizer replace) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output) => output.Add(replace.Normalize(text));
}

/// <summary>Pieces of <c>length</c> code points (the last may be shorter).</summary>
internal sealed class FixedLengthPreTokenizer(int length) : PreTokenizer
{
    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        var s = text.Text;
        var start = 0;
        var count = 0;
        for (var i = 0; i < s.Length; i += char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1)
        {
            if (count == length) { output.Add(text.Slice(start, i)); start = i; count = 0; }
            count++;
        }
        if (start < s.Length) output.Add(text.Slice(start, s.Length));
    }
}
