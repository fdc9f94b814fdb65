// Inputs shared by the quantizer tests: named kinds of float data, and a block-by-block byte comparison whose failure
// names the first differing block and its input.
using FineTune.Formats.Gguf;

namespace FineTune.Formats.Tests.Gguf;

internal static class QuantizerInputs
{
    /// <summary>Input kinds by name: ordinary weights, the edge cases of each search (zeros, constants, ties, NaN, ±Inf, extremes).</summary>
    public static readonly Dictionary<string, Func<Random, float[]>> Kinds = new()
    {
        ["gaussian"] = rng => Fill(4096, rng, r => (float)(r.NextGaussian() * 0.02)),
        ["wide range"] = rng => Fill(4096, rng, r => (float)(r.NextGaussian() * Math.Pow(10, r.Next(-30, 30)))),
        ["all zero"] = _ => new float[1024],
        ["negative zero"] = _ => Enumerable.Repeat(-0f, 512).ToArray(),
        ["constant"] = _ => Enumerable.Repeat(0.75f, 512).ToArray(),
        ["constant negative"] = _ => Enumerable.Repeat(-3f, 512).ToArray(),
        ["positive only"] = rng => Fill(2048, rng, r => (float)r.NextDouble()),
        ["subnormal"] = rng => Fill(1024, rng, r => (float)(r.NextGaussian() * 1e-40)),
        ["tiny"] = rng => Fill(1024, rng, r => (float)(r.NextGaussian() * 1e-38)),
        ["huge"] = rng => Fill(1024, rng, r => (float)(r.NextGaussian() * 1e37)),
        ["ties"] = rng => Fill(2048, rng, r => r.Next(-64, 64) * 0.5f),
        ["sparse"] = rng => Fill(2048, rng, r => r.Next(16) == 0 ? (float)r.NextGaussian() : 0f),
        ["one nonzero per block"] = _ => Enumerable.Range(0, 1024).Select(i => i % 256 == 7 ? 1e-3f : 0f).ToArray(),
        ["with nan"] = rng => Sprinkle(Fill(1024, rng, r => (float)r.NextGaussian()), rng, float.NaN),
        ["with infinity"] = rng => Sprinkle(Fill(1024, rng, r => (float)r.NextGaussian()), rng, float.PositiveInfinity, float.NegativeInfinity),
        ["equal magnitudes"] = rng => Fill(1024, rng, r => r.Next(2) == 0 ? 0.5f : -0.5f),
        ["max float"] = rng => Sprinkle(Fill(1024, rng, r => (float)r.NextGaussian()), rng, float.MaxValue, -float.MaxValue),
    };

    /// <summary>The input of kind <paramref name="kind"/>, seeded by the kind and the type.</summary>
    public static float[] Of(string kind, GgmlType type) => Kinds[kind](new Random(kind.Sum(c => c) * 31 + (int)type));

    /// <summary>Equal bytes; on a difference, names the first differing block and its input.</summary>
    public static void AssertSameBlocks(GgmlType type, float[] x, byte[] expected, byte[] actual)
    {
        var info = GgmlTypeInfo.Of(type);
        Assert.Equal(expected.Length, actual.Length);
        for (var b = 0; b < expected.Length / info.BlockBytes; b++)
        {
            var e = expected.AsSpan(b * info.BlockBytes, info.BlockBytes);
            var a = actual.AsSpan(b * info.BlockBytes, info.BlockBytes);
            if (e.SequenceEqual(a)) continue;
            var input = string.Join(", ", x.Skip(b * info.BlockElements).Take(info.BlockElements).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Fail($"{type} block {b} differs.\nexpected {Convert.ToHexString(e)}\nactual   {Convert.ToHexString(a)}\ninput {input}");
        }
    }

    public static float[] Fill(int n, Random rng, Func<Random, float> next)
    {
        var x = new float[n];
        for (var i = 0; i < n; i++) x[i] = next(rng);
        return x;
    }

    private static float[] Sprinkle(float[] x, Random rng, params float[] values)
    {
        for (var k = 0; k < x.Length / 64; k++) x[rng.Next(x.Length)] = values[k % values.Length];
        return x;
    }
}
