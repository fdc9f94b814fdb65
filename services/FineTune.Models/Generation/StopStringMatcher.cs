namespace FineTune.Models.Generation;

/// <summary>
/// Finds stop strings in decoded output and says how much text is safe to stream: never a tail that could still
/// grow into a stop string, nor a trailing U+FFFD from a multi-byte character whose bytes have not all arrived.
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    /// <summary>Index of the earliest stop string in <paramref name="text"/>, or -1.</summary>
    public int FindStop(string text)
    {
        var best = -1;
        foreach (var s in stops)
        {
            var i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    /// <summary>Length of the prefix of <paramref name="text"/> that can be shown now.</summary>
    public int SafeLength(string text)
    {
        var end = text.Length;
        while (end > 0 && text[end - 1] == '\uFFFD') end--;
        var hold = 0;
        foreach (var s in stops)
            for (var k = Math.Min(s.Length - 1, end); k > hold; k--)
                if (string.CompareOrdinal(text, end - k, s, 0, k) == 0)
                {
                    hold = k;
                    break;
                }
        return end - hold;
    }
}
