namespace FineTune.Training.Sft;

/// <summary>
/// Training rows built from tokenized examples: truncated to max_seq_len (counted), examples left without any label dropped
/// (counted), then one row per example or best-fit-decreasing packing into rows of max_seq_len tokens.
/// </summary>
public sealed class SftDataset
{
    private SftDataset(IReadOnlyList<SftSequence> rows, int examples, int truncated, int dropped)
    {
        Rows = rows;
        Examples = examples;
        Truncated = truncated;
        DroppedWithoutLabels = dropped;
    }

    public IReadOnlyList<SftSequence> Rows { get; }

    /// <summary>Examples read.</summary>
    public int Examples { get; }

    /// <summary>Examples longer than max_seq_len, cut to it.</summary>
    public int Truncated { get; }

    /// <summary>Examples with no labelled token left (after truncation), skipped.</summary>
    public int DroppedWithoutLabels { get; }

    public long LabelTokens => Rows.Sum(r => (long)r.LabelCount);

    public static SftDataset Build(IEnumerable<TokenizedExample> examples, SftDataOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSeqLen, 2);
        var kept = new List<TokenizedExample>();
        int count = 0, truncated = 0, dropped = 0;
        foreach (var original in examples)
        {
            count++;
            var e = original;
            if (options.TrainOnInputs) e = e with { LossMask = Enumerable.Repeat(true, e.Length).ToArray() };
            if (e.Length > options.MaxSeqLen)
            {
                e = new TokenizedExample(e.InputIds[..options.MaxSeqLen], e.LossMask[..options.MaxSeqLen]);
                truncated++;
            }
            // position 0 is never a target (nothing precedes it)
            if (!e.LossMask.Skip(1).Any(m => m)) { dropped++; continue; }
            kept.Add(e);
        }

        var rows = options.Packing ? PackBestFit(kept, options.MaxSeqLen) : kept.Select(e => SftSequence.FromExample(e)).ToList();
        return new SftDataset(rows, count, truncated, dropped);
    }

    /// <summary>Best-fit decreasing: longest example first, into the fullest row it still fits (ties by input order).</summary>
    private static List<SftSequence> PackBestFit(List<TokenizedExample> examples, int capacity)
    {
        var order = Enumerable.Range(0, examples.Count).OrderByDescending(i => examples[i].Length).ThenBy(i => i);
        var bins = new List<(int Used, List<TokenizedExample> Items)>();
        foreach (var i in order)
        {
            var e = examples[i];
            var best = -1;
            for (var b = 0; b < bins.Count; b++)
                if (bins[b].Used + e.Length <= capacity && (best < 0 || bins[b].Used > bins[best].Used)) best = b;
            if (best < 0) bins.Add((e.Length, [e]));
            else
            {
                bins[best].Items.Add(e);
                bins[best] = (bins[best].Used + e.Length, bins[best].Items);
            }
        }
        return bins.Select(b => SftSequence.Pack(b.Items)).ToList();
    }
}
