using System.Text;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// A piece of text produced by normalizing or pre-tokenizing the input, with, for every UTF-16 unit, the span of the
/// original input it came from. It is how <see cref="HfTokenizer.EncodeWithOffsets"/> maps each token back to character
/// offsets of the caller's string. Untouched text (the common case) is stored as an offset, without per-unit arrays.
/// </summary>
internal sealed class AlignedString
{
    // Either identity alignment (unit i ↔ original [_offset + i, _offset + i + 1)) or explicit per-unit arrays.
    private readonly int _offset;
    private readonly int[]? _start;
    private readonly int[]? _end;

    public string Text { get; }

    public AlignedString(string text, int[] start, int[] end)
    {
        Text = text;
        _start = start;
        _end = end;
    }

    private AlignedString(string text, int offset)
    {
        Text = text;
        _offset = offset;
    }

    /// <summary>The identity alignment of <paramref name="text"/>[from..to) within the original input.</summary>
    public static AlignedString Original(string text, int from, int to) =>
        new(from == 0 && to == text.Length ? text : text.Substring(from, to - from), from);

    public int Length => Text.Length;

    /// <summary>Whether each unit maps to exactly one original character, in order.</summary>
    public bool IsIdentity => _start is null;

    public int StartAt(int i) => _start is null ? _offset + i : _start[i];

    public int EndAt(int i) => _end is null ? _offset + i + 1 : _end[i];

    /// <summary>The same alignment for a replacement text of the same length (unit i keeps unit i's span).</summary>
    public AlignedString WithSameLengthText(string text)
    {
        if (text.Length != Text.Length) throw new ArgumentException("Replacement text must have the same length.", nameof(text));
        return _start is null ? new AlignedString(text, _offset) : new AlignedString(text, _start, _end!);
    }

    public AlignedString Slice(int from, int to)
    {
        if (from == 0 && to == Text.Length) return this;
        return _start is null
            ? new AlignedString(Text.Substring(from, to - from), _offset + from)
            : new AlignedString(Text[from..to], _start[from..to], _end![from..to]);
    }

    /// <summary>The original span covered by units [from, to): the smallest start to the largest end.</summary>
    public (int Start, int End) Span(int from, int to)
    {
        if (from >= to)
        {
            var at = from < Text.Length ? StartAt(from) : (Text.Length > 0 ? EndAt(Text.Length - 1) : _offset);
            return (at, at);
        }
        if (_start is null) return (_offset + from, _offset + to);
        int s = int.MaxValue, e = int.MinValue;
        for (var i = from; i < to; i++)
        {
            if (_start[i] < s) s = _start[i];
            if (_end![i] > e) e = _end[i];
        }
        return (s, e);
    }

    /// <summary>Inserts <paramref name="prefix"/> in front; its units map to an empty span at the first unit's start.</summary>
    public AlignedString Prepend(string prefix)
    {
        if (prefix.Length == 0) return this;
        var at = Text.Length > 0 ? StartAt(0) : _offset;
        var n = prefix.Length + Text.Length;
        var start = new int[n];
        var end = new int[n];
        for (var i = 0; i < prefix.Length; i++) { start[i] = at; end[i] = at; }
        for (var i = 0; i < Text.Length; i++) { start[prefix.Length + i] = StartAt(i); end[prefix.Length + i] = EndAt(i); }
        return new AlignedString(prefix + Text, start, end);
    }

    /// <summary>
    /// Rebuilds the string from pieces: each piece is new text that replaces the units [from, to) of this string
    /// and is aligned to their whole span (or unit by unit when it is the same text).
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
                for (var i = from; i < to; i++) { start.Add(StartAt(i)); end.Add(EndAt(i)); }
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
