using System.Text;

namespace FineTune.Models.Tokenizers;

/// <summary>
/// A piece of text produced by normalizing or pre-tokenizing the input, with, for every UTF-16 unit,
/// the span of the original input it came from. It is how <see cref="HfTokenizer.EncodeWithOffsets"/>
/// maps each token back to character offsets of the caller's string.
/// </summary>
internal sealed class AlignedString
{
    public string Text { get; }

    /// <summary>Original start offset of each unit of <see cref="Text"/>.</summary>
    public int[] Start { get; }

    /// <summary>Original end offset (exclusive) of each unit of <see cref="Text"/>.</summary>
    public int[] End { get; }

    public AlignedString(string text, int[] start, int[] end)
    {
        Text = text;
        Start = start;
        End = end;
    }

    /// <summary>The identity alignment of <paramref name="text"/>[from..to) within the original input.</summary>
    public static AlignedString Original(string text, int from, int to)
    {
        var n = to - from;
        var start = new int[n];
        var end = new int[n];
        for (var i = 0; i < n; i++)
        {
            start[i] = from + i;
            end[i] = from + i + 1;
        }
        return new AlignedString(text.Substring(from, n), start, end);
    }

    public int Length => Text.Length;

    public AlignedString Slice(int from, int to)
    {
        if (from == 0 && to == Text.Length) return this;
        return new AlignedString(Text[from..to], Start[from..to], End[from..to]);
    }

    /// <summary>The original span covered by units [from, to): the smallest start to the largest end.</summary>
    public (int Start, int End) Span(int from, int to)
    {
        if (from >= to)
        {
            var at = from < Start.Length ? Start[from] : (End.Length > 0 ? End[^1] : 0);
            return (at, at);
        }
        int s = int.MaxValue, e = int.MinValue;
        for (var i = from; i < to; i++)
        {
            if (Start[i] < s) s = Start[i];
            if (End[i] > e) e = End[i];
        }
        return (s, e);
    }

    /// <summary>Inserts <paramref name="prefix"/> in front; its units map to an empty span at the first unit's start.</summary>
    public AlignedString Prepend(string prefix)
    {
        if (prefix.Length == 0) return this;
        var at = Start.Length > 0 ? Start[0] : 0;
        var start = new int[prefix.Length + Text.Length];
        var end = new int[start.Length];
        for (var i = 0; i < prefix.Length; i++) { start[i] = at; end[i] = at; }
        Start.CopyTo(start, prefix.Length);
        End.CopyTo(end, prefix.Length);
        return new AlignedString(prefix + Text, start, end);
    }

    /// <summary>
    /// Rebuilds the string from pieces: each piece is new text that replaces the units [from, to) of this string
    /// and is aligned to their whole span.
    /// </summary>
    public AlignedString Rebuild(IEnumerable<(string Text, int From, int To)> pieces)
    {
        var sb = new StringBuilder(Text.Length);
        var start = new List<int>(Text.Length);
        var end = new List<int>(Text.Length);
        foreach (var (text, from, to) in pieces)
        {
            if (text.Length == 0) continue;
            if (to - from == text.Length && string.CompareOrdinal(Text, from, text, 0, text.Length) == 0)
            {
                sb.Append(text);
                for (var i = from; i < to; i++) { start.Add(Start[i]); end.Add(End[i]); }
                continue;
            }
            var (s, e) = Span(from, to);
            sb.Append(text);
            for (var i = 0; i < text.Length; i++) { start.Add(s); end.Add(e); }
        }
        return new AlignedString(sb.ToString(), [.. start], [.. end]);
    }

    /// <summary>Trims JavaScript whitespace (the reference's String.prototype.trim set) from either end.</summary>
    public AlignedString Trim(bool left, bool right)
    {
        int a = 0, b = Text.Length;
        if (left) while (a < b && JsText.IsWhiteSpace(Text[a])) a++;
        if (right) while (b > a && JsText.IsWhiteSpace(Text[b - 1])) b--;
        return Slice(a, b);
    }

    public override string ToString() => Text;
}
