using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>Tensor helpers for the model tests (the tiny configs and decoders are TestSupport/Models/TinyDecoder).</summary>
internal static class ModelKit
{
    public static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    public static long[] RandomTokens(int n, int vocab, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(_ => (long)rng.Next(vocab))];
    }

    public static void AssertClose(Tensor expected, Tensor actual, double atol = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= atol, $"max |diff| = {diff} > {atol}");
    }
}
