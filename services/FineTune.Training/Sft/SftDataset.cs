using FineTune.Training.Preprocessing;

namespace FineTune.Training.Sft;

/// <summary>
/// Training rows built from preprocessed examples (<see cref="ExamplePreprocessor"/>, in-process or read from shards): cut
/// to max_seq_len by the preprocessor's own <see cref="ExamplePreprocessor.Fit"/> (truncated and dropped examples counted),
/// then one row per example or best-fit-decreasing packing into rows of max_seq_len tokens. This is the one place packing
/// happens (docs/training.md, "Preprocessing: one path").
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

    /// <summary>Examples read (dropped ones included).</summary>
    public int Examples { get; }

    /// <summary>Examples longer than max_seq_len, cut to it.</summary>
    public int Truncated { get; }

    /// <summary>Examples skipped: no labelled token left (after truncation), or over-long in shards written with the drop policy.</summary>
    public int DroppedWithoutLabels { get; }

    public long LabelTokens => Rows.Sum(r => (long)r.LabelCount);

    /// <summary>Rows of examples the preprocessor kept; its truncated and dropped counts add to the dataset's own.</summary>
    public static SftDataset Build(PreprocessedExamples examples, SftDataOptions options) =>
        Build(examples.Examples, options, (int)examples.Truncated, (int)examples.Dropped);

    public static SftDataset Build(IEnumerable<TokenizedExample> examples, SftDataOptions options) => Build(examples, options, 0, 0);

    private static SftDataset Build(IEnumerable<TokenizedExample> examples, SftDataOptions options, int truncated, int dropped)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSeqLen, 2);
        var kept = new List<TokenizedExample>();
        var count = dropped;
        foreach (var original in examples)
        {
            count++;
            var e = original;
            if (options.TrainOnInputs) e = e with { LossMask = Enumerable.Repeat(true, e.Length).ToArray() };
            var fitted = ExamplePreprocessor.Fit(e, options.MaxSeqLen, dropOverLong: false);
            if (fitted.Fate == ExampleFate.Truncated) truncated++;
            if (fitted.Example is null) { dropped++; continue; }
            kept.Add(fitted.Example);
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
