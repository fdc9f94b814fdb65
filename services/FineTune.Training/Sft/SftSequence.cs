namespace FineTune.Training.Sft;

/// <summary>
/// One row of a batch before padding: token ids with their next-token labels (−100 = no loss), segment ids
/// (1, 2, … per packed example) and positions restarting at 0 in every segment.
/// </summary>
public sealed record SftSequence(int[] InputIds, int[] Labels, int[] SegmentIds, int[] PositionIds)
{
    public const int IgnoreIndex = -100;

    public int Length => InputIds.Length;

    /// <summary>Tokens that carry a label.</summary>
    public int LabelCount => Labels.Count(l => l != IgnoreIndex);

    /// <summary>
    /// Shifts one example: the label at position t is token t+1 when the mask selects token t+1. The labels come from the
    /// mask, never from comparing ids with the pad id, so an EOS that doubles as pad stays a target.
    /// </summary>
    public static SftSequence FromExample(TokenizedExample example, int segmentId = 1)
    {
        var n = example.Length;
        var labels = new int[n];
        for (var t = 0; t < n; t++)
            labels[t] = t + 1 < n && example.LossMask[t + 1] ? example.InputIds[t + 1] : IgnoreIndex;
        var segments = new int[n];
        Array.Fill(segments, segmentId);
        var positions = new int[n];
        for (var t = 0; t < n; t++) positions[t] = t;
        return new SftSequence((int[])example.InputIds.Clone(), labels, segments, positions);
    }

    /// <summary>Concatenates examples into one packed row; segment k+1 holds example k.</summary>
    public static SftSequence Pack(IReadOnlyList<TokenizedExample> examples)
    {
        var parts = examples.Select((e, i) => FromExample(e, i + 1)).ToList();
        return new SftSequence(
            [.. parts.SelectMany(p => p.InputIds)],
            [.. parts.SelectMany(p => p.Labels)],
            [.. parts.SelectMany(p => p.SegmentIds)],
            [.. parts.SelectMany(p => p.PositionIds)]);
    }
}
