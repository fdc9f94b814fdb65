using System.Globalization;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>What a split does with the delimiters it finds (Hugging Face tokenizers' SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    /// <summary>Delimiters are dropped.</summary>
    Removed,
    /// <summary>Each delimiter is a piece of its own.</summary>
    Isolated,
    /// <summary>A delimiter is appended to the piece before it.</summary>
    MergedWithPrevious,
    /// <summary>A delimiter is prepended to the piece after it.</summary>
    MergedWithNext,
    /// <summary>Consecutive delimiters form one piece.</summary>
    Contiguous,
}

/// <summary>
/// Splitting a piece of text by delimiters with one of the five behaviors, as the Rust tokenizers library specifies it:
/// the text is first cut into alternating (span, is-delimiter) segments covering it (by regex matches or by a character
/// predicate, one delimiter per character), <c>invert</c> swaps which segments are delimiters, then the behavior merges
/// or drops them and empty pieces are discarded. Hand-written: no .NET library implements these semantics.
/// </summary>
internal static class SplitDelimiter
{
    public static SplitBehavior Parse(string? name, string where) => name switch
    {
        "Removed" or "removed" => SplitBehavior.Removed,
        "Isolated" or "isolated" => SplitBehavior.Isolated,
        "MergedWithPrevious" or "merged_with_previous" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" or "merged_with_next" => SplitBehavior.MergedWithNext,
        "Contiguous" or "contiguous" => SplitBehavior.Contiguous,
        _ => throw new FormatException($"{where}: behavior '{name}' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous."),
    };

    /// <summary>Segments from regex matches: the text between matches (not delimiters) and the matches (delimiters).</summary>
    public static List<(int From, int To, bool IsMatch)> FromMatches(int length, List<(int Index, int Length)> matches)
    {
        var segments = new List<(int, int, bool)>(matches.Count * 2 + 1);
        var prev = 0;
        foreach (var (index, matchLength) in matches)
        {
            if (index > prev) segments.Add((prev, index, false));
            segments.Add((index, index + matchLength, true));
            prev = index + matchLength;
        }
        if (prev < length) segments.Add((prev, length, false));
        return segments;
    }

    /// <summary>Segments from a per-code-point predicate: every matching code point is a delimiter of its own.</summary>
    public static List<(int From, int To, bool IsMatch)> FromPredicate(string text, Func<int, bool> isDelimiter)
    {
        var segments = new List<(int, int, bool)>();
        var runStart = 0;
        for (var i = 0; i < text.Length;)
        {
            var width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var cp = width == 2 ? char.ConvertToUtf32(text[i], text[i + 1]) : text[i];
            if (isDelimiter(cp))
            {
                if (i > runStart) segments.Add((runStart, i, false));
                segments.Add((i, i + width, true));
                runStart = i + width;
            }
            i += width;
        }
        if (runStart < text.Length) segments.Add((runStart, text.Length, false));
        return segments;
    }

    /// <summary>Applies <paramref name="behavior"/> to the segments of <paramref name="text"/> and adds the non-empty pieces.</summary>
    public static void Apply(AlignedString text, List<(int From, int To, bool IsMatch)> segments, SplitBehavior behavior,
        bool invert, List<AlignedString> output)
    {
        if (invert)
            for (var i = 0; i < segments.Count; i++) segments[i] = segments[i] with { IsMatch = !segments[i].IsMatch };
        foreach (var (from, to) in Combine(segments, behavior))
            if (to > from) output.Add(text.Slice(from, to));
    }

    private static List<(int From, int To)> Combine(List<(int From, int To, bool IsMatch)> segments, SplitBehavior behavior)
    {
        var pieces = new List<(int From, int To)>(segments.Count);
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var s in segments) if (!s.IsMatch) pieces.Add((s.From, s.To));
                return pieces;
            case SplitBehavior.Isolated:
                foreach (var s in segments) pieces.Add((s.From, s.To));
                return pieces;
            case SplitBehavior.MergedWithPrevious:
            {
                var previousMatch = false;
                foreach (var s in segments)
                {
                    if (s.IsMatch && !previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].From, s.To);
                    else pieces.Add((s.From, s.To));
                    previousMatch = s.IsMatch;
                }
                return pieces;
            }
            case SplitBehavior.MergedWithNext:
            {
                // The mirror image: walk from the end and prepend each delimiter to the piece after it.
                var previousMatch = false;
                for (var k = segments.Count - 1; k >= 0; k--)
                {
                    var s = segments[k];
                    if (s.IsMatch && !previousMatch && pieces.Count > 0) pieces[^1] = (s.From, pieces[^1].To);
                    else pieces.Add((s.From, s.To));
                    previousMatch = s.IsMatch;
                }
                pieces.Reverse();
                return pieces;
            }
            default:
            {
                var previousMatch = false;
                foreach (var s in segments)
                {
                    if (s.IsMatch == previousMatch && pieces.Count > 0) pieces[^1] = (pieces[^1].From, s.To);
                    else pieces.Add((s.From, s.To));
                    previousMatch = s.IsMatch;
                }
                return pieces;
            }
        }
    }

    /// <summary>Rust's char::is_whitespace: the Unicode White_Space property.</summary>
    public static bool IsWhiteSpace(int cp) => cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680
        or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>The tokenizers library's is_punc: ASCII punctuation (symbols included) or any Unicode P* category.</summary>
    public static bool IsPunctuation(int cp)
    {
        if (cp < 0x80) return cp is (>= 0x21 and <= 0x2F) or (>= 0x3A and <= 0x40) or (>= 0x5B and <= 0x60) or (>= 0x7B and <= 0x7E);
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
