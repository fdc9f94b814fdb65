using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Formats.Tests.Gguf;

/// <summary>The vectorised Q8_0, Q5_0, Q4_K and Q6_K kernels write exactly the bytes of the scalar reference (the pre-vectorisation code).</summary>
public sealed class QuantizerReferenceTests
{
    public static TheoryData<GgmlType, string> Cases()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K })
            foreach (var kind in Inputs.Keys) data.Add(type, kind);
        return data;
    }

    private static readonly Dictionary<string, Func<Random, float[]>> Inputs = new()
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

    [Theory]
    [MemberData(nameof(Cases))]
    public void OptimisedBytesEqualTheScalarReference(GgmlType type, string kind)
    {
        var x = Inputs[kind](new Random(kind.Sum(c => c) * 31 + (int)type));
        var expected = ScalarReferenceQuantizer.Quantize(type, x);
        AssertSameBlocks(type, x, expected, GgmlQuantizer.Quantize(type, x));
        var checkedBytes = new byte[expected.Length];
        GgmlQuantizer.QuantizeChecked(type, x, x.Length, checkedBytes);
        Assert.Equal(expected, checkedBytes);
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void ManySeedsOfGaussianWeightsMatchTheReference(GgmlType type)
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var scale = Math.Pow(10, rng.Next(-6, 3));
            var x = Fill(2048, rng, r => (float)(r.NextGaussian() * scale + (r.Next(4) == 0 ? scale : 0)));
            Assert.Equal(ScalarReferenceQuantizer.Quantize(type, x), GgmlQuantizer.Quantize(type, x));
        }
    }

    [Fact]
    public void QuantizeCheckedMeasuresTheRoundTripAsTheSeparateCheckDoes()
    {
        var x = Fill(8192, new Random(3), r => (float)(r.NextGaussian() * 0.02));
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.F16 })
        {
            var bytes = new byte[GgmlTypeInfo.Of(type).RowBytes(x.Length)];
            var measured = GgmlQuantizer.QuantizeChecked(type, x, x.Length, bytes).Relative;
            var separate = QuantizationErrorBound.RelativeRmsError(x, GgmlQuantizer.Dequantize(type, bytes, x.Length));
            Assert.Equal(separate, measured, 1e-9);
            Assert.True(measured > 0);
        }
    }

    [Fact]
    public void QuantizeCheckedUsesOnlyTheStartOfLongerReusedBuffers()
    {
        var x = Fill(1024, new Random(5), r => (float)r.NextGaussian());
        var longer = x.Concat(Enumerable.Repeat(float.NaN, 512)).ToArray();
        var size = (int)GgmlTypeInfo.Of(GgmlType.Q4_K).RowBytes(x.Length);
        var bytes = Enumerable.Repeat((byte)0xAB, size + 100).ToArray();
        var err = GgmlQuantizer.QuantizeChecked(GgmlType.Q4_K, longer, x.Length, bytes);
        Assert.Equal(GgmlQuantizer.Quantize(GgmlType.Q4_K, x), bytes[..size]);
        Assert.All(bytes[size..], b => Assert.Equal(0xAB, b));
        Assert.True(double.IsFinite(err.Relative));
        Assert.Throws<ArgumentException>(() => GgmlQuantizer.QuantizeChecked(GgmlType.Q4_K, longer, x.Length, new byte[size - 1]));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q5_0)]
    public void VectorisedDequantizersGiveTheScalarFormsFloats(GgmlType type)
    {
        var info = GgmlTypeInfo.Of(type);
        var rng = new Random(11);
        var blocks = new byte[400 * info.BlockBytes];
        rng.NextBytes(blocks);
        for (var b = 0; b < 400; b++)   // a finite scale: random, zero, subnormal, the largest half
        {
            var d = (b % 4) switch { 0 => (float)rng.NextGaussian(), 1 => 0f, 2 => 3e-6f, _ => 65504f };
            ScalarReferenceQuantizer.WriteFp16(blocks.AsSpan(b * info.BlockBytes), d);
        }
        var actual = GgmlQuantizer.Dequantize(type, blocks, 400L * info.BlockElements);
        var expected = new float[actual.Length];
        for (var b = 0; b < 400; b++)
        {
            var y = blocks.AsSpan(b * info.BlockBytes, info.BlockBytes);
            var x = expected.AsSpan(b * info.BlockElements, info.BlockElements);
            if (type == GgmlType.Q8_0) ScalarReferenceQuantizer.Q8_0Dequantize(y, x);
            else ScalarReferenceQuantizer.Q5_0Dequantize(y, x);
        }
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.F32)]
    public void QuantizingFromAChunkedSourceWritesTheBytesOfTheWholeArray(GgmlType type)
    {
        var x = Fill(3 * 4096 + 1024, new Random(9), r => (float)r.NextGaussian());
        var size = (int)GgmlTypeInfo.Of(type).RowBytes(x.Length);
        var whole = new byte[size];
        var chunked = new byte[size];
        var calls = 0;
        var expected = GgmlQuantizer.QuantizeChecked(type, x, x.Length, whole);
        var measured = GgmlQuantizer.QuantizeChecked(type, (start, scratch) =>
        {
            Interlocked.Increment(ref calls);
            x.AsSpan((int)start, scratch.Length).CopyTo(scratch);   // a converter: fills the scratch it is given
            return scratch;
        }, x.Length, chunked);
        Assert.Equal(whole, chunked);
        Assert.Equal(expected.Relative, measured.Relative, 1e-12);
        Assert.True(calls >= 4, $"{calls} calls: the source was not read in chunks");
    }

    /// <summary>Equal bytes; on a difference, names the first differing block and its input.</summary>
    private static void AssertSameBlocks(GgmlType type, float[] x, byte[] expected, byte[] actual)
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

    private static float[] Fill(int n, Random rng, Func<Random, float> next)
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
