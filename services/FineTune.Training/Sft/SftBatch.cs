using static TorchSharp.torch;

namespace FineTune.Training.Sft;

/// <summary>
/// A padded micro-batch. input_ids, labels, segment_ids, position_ids are (B, T) int64; padding has segment 0 and label −100.
/// </summary>
public sealed class SftBatch : IDisposable
{
    private SftBatch(Tensor inputIds, Tensor labels, Tensor segmentIds, Tensor positionIds, int labelTokens, int realTokens)
    {
        InputIds = inputIds;
        Labels = labels;
        SegmentIds = segmentIds;
        PositionIds = positionIds;
        LabelTokens = labelTokens;
        RealTokens = realTokens;
    }

    public Tensor InputIds { get; }
    public Tensor Labels { get; }
    public Tensor SegmentIds { get; }
    public Tensor PositionIds { get; }

    /// <summary>Positions with a label (the loss's denominator contribution).</summary>
    public int LabelTokens { get; }

    /// <summary>Non-padding tokens (throughput counts these).</summary>
    public int RealTokens { get; }

    /// <summary>Pads rows to the longest one with <paramref name="padId"/> (any id: padding is marked by segment 0, not by the id).</summary>
    public static SftBatch Collate(IReadOnlyList<SftSequence> rows, int padId, Device? device = null)
    {
        if (rows.Count == 0) throw new ArgumentException("A batch needs at least one row", nameof(rows));
        var b = rows.Count;
        var t = rows.Max(r => r.Length);
        var ids = new long[b * t];
        var labels = new long[b * t];
        var segments = new long[b * t];
        var positions = new long[b * t];
        Array.Fill(ids, padId);
        Array.Fill(labels, SftSequence.IgnoreIndex);
        int labelTokens = 0, realTokens = 0;
        for (var i = 0; i < b; i++)
        {
            var row = rows[i];
            for (var j = 0; j < row.Length; j++)
            {
                var k = i * t + j;
                ids[k] = row.InputIds[j];
                labels[k] = row.Labels[j];
                segments[k] = row.SegmentIds[j];
                positions[k] = row.PositionIds[j];
                if (row.Labels[j] != SftSequence.IgnoreIndex) labelTokens++;
            }
            realTokens += row.Length;
        }
        long[] shape = [b, t];
        return new SftBatch(
            tensor(ids, shape, device: device), tensor(labels, shape, device: device),
            tensor(segments, shape, device: device), tensor(positions, shape, device: device),
            labelTokens, realTokens);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        SegmentIds.Dispose();
        PositionIds.Dispose();
    }
}
