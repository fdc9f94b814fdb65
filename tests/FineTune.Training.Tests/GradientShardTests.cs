using FineTune.Training.Parallel;

namespace FineTune.Training.Tests;

public class GradientShardTests
{
    [Fact]
    public void WireFormRoundTripsEveryBit()
    {
        var shard = new GradientShard([1.5f, -0f, float.Epsilon, 3.4e38f, float.NaN], 12.345678901234, 9_876_543_210);
        var back = GradientShard.FromBytes(shard.ToBytes());
        Assert.Equal(shard.LossSum, back.LossSum);
        Assert.Equal(shard.Tokens, back.Tokens);
        Assert.Equal(shard.Gradients.Select(BitConverter.SingleToInt32Bits), back.Gradients.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void SumAddsInRankOrder()
    {
        // float addition is not associative: in rank order (1e8 + 1) + -1e8 = 0 (the 1 is lost), while 1e8 + -1e8 + 1 would be 1
        var a = new GradientShard([1e8f, 1f], 1, 10);
        var b = new GradientShard([1f, 2f], 2, 20);
        var c = new GradientShard([-1e8f, 3f], 3, 30);
        var total = GradientShard.Sum([a, b, c]);
        Assert.Equal(0f, total.Gradients[0]);
        Assert.Equal(6f, total.Gradients[1]);
        Assert.Equal(6, total.LossSum);
        Assert.Equal(60, total.Tokens);
    }

    [Fact]
    public void ShardsOfDifferentAdaptersAreRejected()
    {
        var e = Assert.Throws<InvalidOperationException>(() => GradientShard.Sum([new([1f], 0, 0), new([1f, 2f], 0, 0)]));
        Assert.Contains("rank 1", e.Message);
    }

    [Fact]
    public void TruncatedBytesAreRejected() =>
        Assert.Throws<FormatException>(() => GradientShard.FromBytes(new byte[17]));
}
