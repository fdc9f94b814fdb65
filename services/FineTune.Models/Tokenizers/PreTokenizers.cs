using System.Text;
using System.Text.Json;

namespace FineTune.Models.Tokenizers;

/// <summary>
/// The tokenizer.json "pre_tokenizer" stage: splits a normalized section into words that BPE merges never cross.
/// Implemented as the reference does: ByteLevel (GPT-2 regex when use_regex, then bytes → printable characters),
/// Split (regex or string; Isolated/Removed behaviours, invert), Metaspace (spaces → ▁ with prepend_scheme),
/// Digits (ASCII, as the reference) and Sequence.
/// </summary>
internal abstract class PreTokenizer
{
    public abstract void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output);

    public static PreTokenizer? FromJson(JsonElement json, string source)
    {
        if (json.ValueKind == JsonValueKind.Null || json.ValueKind == JsonValueKind.Undefined) return null;
        var type = json.GetProperty("type").GetString();
        return type switch
        {
            "Sequence" => new SequencePreTokenizer(json.GetProperty("pretokenizers").EnumerateArray()
                .Select(p => FromJson(p, source)).OfType<PreTokenizer>().ToArray()),
            "ByteLevel" => new ByteLevelPreTokenizer(Json.Bool(json, "add_prefix_space", false), Json.Bool(json, "use_regex", true)),
            "Split" => new SplitPreTokenizer(Json.Pattern(json.GetProperty("pattern"), source + " pre_tokenizer Split"),
                Json.String(json, "behavior") ?? "Isolated", Json.Bool(json, "invert", false), source),
            "Metaspace" => new MetaspacePreTokenizer(Json.String(json, "replacement") ?? "\u2581",
                Json.String(json, "prepend_scheme") ?? (Json.Bool(json, "add_prefix_space", true) ? "always" : "never")),
            "Digits" => new SplitPreTokenizer(SplitPattern.FromOniguruma(
                Json.Bool(json, "individual_digits", false) ? "[^0-9]+|[0-9]" : "[^0-9]+|[0-9]+", source), "Matches", false, source),
            _ => throw new NotSupportedException($"{source}: pre_tokenizer type '{type}' is not supported (supported: Sequence, ByteLevel, Split, Metaspace, Digits)."),
        };
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

internal sealed class SplitPreTokenizer : PreTokenizer
{
    private readonly SplitPattern _pattern;
    private readonly bool _matchesOnly;
    private readonly bool _removed;

    public SplitPreTokenizer(SplitPattern pattern, string behavior, bool invert, string source)
    {
        _pattern = pattern;
        // As in the reference: invert keeps only the matches; "Removed" drops them; everything else keeps matches
        // and the text between them as separate pieces ("Isolated").
        _matchesOnly = invert || behavior == "Matches";
        _removed = !_matchesOnly && behavior.Equals("Removed", StringComparison.OrdinalIgnoreCase);
        if (!_matchesOnly && behavior is not ("Isolated" or "Removed"))
            throw new NotSupportedException($"{source}: Split behavior '{behavior}' is not supported (Isolated, Removed).");
    }

    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        var prev = 0;
        foreach (var (index, length) in _pattern.Matches(text.Text))
        {
            if (_matchesOnly)
            {
                if (length > 0) output.Add(text.Slice(index, index + length));
                continue;
            }
            if (index > prev) output.Add(text.Slice(prev, index));
            if (length > 0 && !_removed) output.Add(text.Slice(index, index + length));
            prev = index + length;
        }
        if (!_matchesOnly && prev < text.Length) output.Add(text.Slice(prev, text.Length));
    }
}

internal sealed class MetaspacePreTokenizer(string replacement, string prependScheme) : PreTokenizer
{
    private readonly SplitPattern _space = SplitPattern.Literal(" ", "Metaspace");

    public override void PreTokenize(AlignedString text, int sectionIndex, List<AlignedString> output)
    {
        // The reference replaces spaces and prepends the replacement; it does not split on it.
        var replaced = new ReplaceNormalizer(_space, replacement).Normalize(text);
        if (!replaced.Text.StartsWith(replacement, StringComparison.Ordinal)
            && (prependScheme == "always" || (prependScheme == "first" && sectionIndex == 0)))
            replaced = replaced.Prepend(replacement);
        output.Add(replaced);
    }
}
