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
            foreach (var kind in QuantizerInputs.Kinds.Keys) data.Add(type, kind);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OptimisedBytesEqualTheScalarReference(GgmlType type, string kind)
    {
        var x = QuantizerInputs.Of(kind, type);
        var expected = ScalarReferenceQuantizer.Quantize(type, x);
        QuantizerInputs.AssertSameBlocks(type, x, expected, GgmlQuantizer.Quantize(type, x));
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
            var x = QuantizerInputs.Fill(2048, rng, r => (float)(r.NextGaussian() * scale + (r.Next(4) == 0 ? scale : 0)));
            Assert.Equal(ScalarReferenceQuantizer.Quantize(type, x), GgmlQuantizer.Quantize(type, x));
        }
    }

    [Fact]
    public void QuantizeCheckedMeasuresTheRoundTripAsTheSeparateCheckDoes()
    {
        var x = QuantizerInputs.Fill(8192, new Random(3), r => (float)(r.NextGaussian() * 0.02));
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
        var x = QuantizerInputs.Fill(1024, new Random(5), r => (float)r.NextGaussian());
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
        var x = QuantizerInputs.Fill(3 * 4096 + 1024, new Random(9), r => (float)r.NextGaussian());
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
}
