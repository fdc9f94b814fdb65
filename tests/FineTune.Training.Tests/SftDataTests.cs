using FineTune.Training.Sft;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

public class SftDataTests
{
    [Fact]
    public void LabelsAreTheNextTokenWhereTheMaskSelectsIt()
    {
        var e = TestData.Example([10, 11, 12], [20, 21]);             // ids 10 11 12 20 21 EOS
        var s = SftSequence.FromExample(e);
        Assert.Equal(new[] { -100, -100, 20, 21, TestData.Eos, -100 }, s.Labels);
        Assert.Equal(3, s.LabelCount);
    }

    [Fact]
    public void EosStaysALabelWhenThePadIdEqualsIt()
    {
        var e = TestData.Example([10, 11], [20], eos: 2);
        using var batch = SftBatch.Collate([SftSequence.FromExample(e), SftSequence.FromExample(TestData.Example([10, 11, 12, 13], [20]))], padId: 2);
        var labels = batch.Labels[0].data<long>().ToArray();
        Assert.Equal(new long[] { -100, 20, 2, -100, -100, -100 }, labels);   // the real EOS is a target; padding is not
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0 }, batch.SegmentIds[0].data<long>().ToArray());
        Assert.Equal(4, batch.LabelTokens);
    }

    [Fact]
    public void LongExamplesAreTruncatedAndCounted()
    {
        var data = SftDataset.Build([TestData.Example([1, 2, 3], [4, 5, 6, 7]), TestData.Example([1], [4])], new SftDataOptions { MaxSeqLen = 5 });
        Assert.Equal(1, data.Truncated);
        Assert.Equal(5, data.Rows[0].Length);
        Assert.Equal(0, data.DroppedWithoutLabels);
    }

    [Fact]
    public void ExamplesWhoseAnswerIsCutAwayAreDroppedAndCounted()
    {
        var data = SftDataset.Build([TestData.Example([1, 2, 3, 4, 5, 6], [7, 8]), TestData.Example([1], [4])], new SftDataOptions { MaxSeqLen = 4 });
        Assert.Equal(1, data.DroppedWithoutLabels);
        Assert.Single(data.Rows);
    }

    [Fact]
    public void TrainOnInputsLabelsEveryToken()
    {
        var data = SftDataset.Build([TestData.Example([10, 11, 12], [20])], new SftDataOptions { TrainOnInputs = true });
        Assert.Equal(4, data.Rows[0].LabelCount);
    }

    [Fact]
    public void PackingFillsRowsWithSegmentsAndRestartedPositions()
    {
        var examples = TestData.Random(20, 32, seed: 5);
        var data = SftDataset.Build(examples, new SftDataOptions { MaxSeqLen = 24, Packing = true });
        Assert.True(data.Rows.Count < examples.Count);
        Assert.All(data.Rows, r => Assert.True(r.Length <= 24));
        Assert.Equal(examples.Sum(e => e.Length), data.Rows.Sum(r => r.Length));
        Assert.Equal(examples.Sum(e => SftSequence.FromExample(e).LabelCount), data.Rows.Sum(r => r.LabelCount));
        foreach (var row in data.Rows)
            for (var t = 0; t < row.Length; t++)
            {
                var segmentStart = t == 0 || row.SegmentIds[t] != row.SegmentIds[t - 1];
                if (segmentStart) Assert.Equal(0, row.PositionIds[t]);
                else Assert.Equal(row.PositionIds[t - 1] + 1, row.PositionIds[t]);
                var segmentEnd = t == row.Length - 1 || row.SegmentIds[t + 1] != row.SegmentIds[t];
                if (segmentEnd) Assert.Equal(SftSequence.IgnoreIndex, row.Labels[t]); // never predicts the next example
            }
    }

    [Fact]
    public void OrderIsASeededPermutationPerEpoch()
    {
        var a = new MicroBatchOrder(10, 3, seed: 42);
        var b = new MicroBatchOrder(10, 3, seed: 42);
        Assert.Equal(4, a.MicroBatchesPerEpoch);
        var epoch0 = Enumerable.Range(0, 4).SelectMany(i => a.RowsOf(i)).ToArray();
        var epoch1 = Enumerable.Range(4, 4).SelectMany(i => a.RowsOf(i)).ToArray();
        Assert.Equal(Enumerable.Range(0, 10), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 10), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch1, Enumerable.Range(4, 4).SelectMany(i => b.RowsOf(i)).ToArray());
        Assert.NotEqual(epoch0, Enumerable.Range(0, 4).SelectMany(i => new MicroBatchOrder(10, 3, seed: 43).RowsOf(i)).ToArray());
    }
}
