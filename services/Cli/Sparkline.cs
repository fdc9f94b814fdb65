namespace FineTune.Cli;

/// <summary>A one-line chart of the last values with the eight block characters ▁..█ (min to max of the window).</summary>
public static class Sparkline
{
    private const string Blocks = "▁▂▃▄▅▆▇█";

    public static string Render(IReadOnlyList<double> values, int width = 40)
    {
        var window = values.Skip(Math.Max(0, values.Count - width)).Where(double.IsFinite).ToList();
        if (window.Count == 0) return "";
        double min = window.Min(), max = window.Max();
        return string.Concat(window.Select(v => Blocks[max > min ? (int)Math.Round((v - min) / (max - min) * (Blocks.Length - 1)) : 0]));
    }
}
