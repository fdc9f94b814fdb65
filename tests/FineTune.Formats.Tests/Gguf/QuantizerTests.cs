using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Formats.Tests.Gguf;

public sealed class QuantizerTests
{
    private static float[] Gaussian(int n, int seed, float scale = 0.02f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextGaussian() * scale)).ToArray();
    }

    [Theory]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.BF16)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q5_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void DequantizedTensorIsWithinTheFormatsErrorBound(GgmlType type)
    {
        var x = Gaussian(64 * 512, seed: (int)type);
        var q = GgmlQuantizer.Quantize(type, x);
        Assert.Equal(GgmlTypeInfo.Of(type).RowBytes(x.Length), q.Length);
        var y = GgmlQuantizer.Dequantize(type, q, x.Length);
        var err = QuantizationErrorBound.RelativeRmsError(x, y);
        Assert.True(err < QuantizationErrorBound.RelativeRms(type), $"{type}: relative RMS error {err:G4}");
        Assert.True(err > 0, $"{type} should be lossy on random data");
    }

    [Fact]
    public void MoreBitsGiveSmallerErrorInTheExpectedOrder()
    {
        var x = Gaussian(256 * 64, seed: 7);
        double Err(GgmlType t) => QuantizationErrorBound.RelativeRmsError(x, GgmlQuantizer.Dequantize(t, GgmlQuantizer.Quantize(t, x), x.Length));
        Assert.True(Err(GgmlType.Q8_0) < Err(GgmlType.Q6_K));
        Assert.True(Err(GgmlType.Q6_K) < Err(GgmlType.Q5_0));
        Assert.True(Err(GgmlType.Q5_0) < Err(GgmlType.Q4_K));
        Assert.True(Err(GgmlType.Q4_K) < Err(GgmlType.Q4_0));
    }

    [Fact]
    public void Q8_0PerElementErrorIsAtMostHalfAStep()
    {
        var x = Gaussian(32 * 100, seed: 3, scale: 1f);
        var q = GgmlQuantizer.Quantize(GgmlType.Q8_0, x);
        var y = GgmlQuantizer.Dequantize(GgmlType.Q8_0, q, x.Length);
        for (var b = 0; b < 100; b++)
        {
            var amax = x.Skip(32 * b).Take(32).Max(MathF.Abs);
            var d = (float)(Half)(amax / 127);
            for (var j = 0; j < 32; j++)
                Assert.True(MathF.Abs(x[32 * b + j] - y[32 * b + j]) <= d * 0.5f + amax * 1e-3f, $"block {b} element {j}");
        }
    }

    [Fact]
    public void Q8_0BlockLayoutIsScaleThenSignedCodes()
    {
        var x = Enumerable.Range(0, 32).Select(i => (float)(i - 16)).ToArray();   // amax 16 at x[0] = -16
        var q = GgmlQuantizer.Quantize(GgmlType.Q8_0, x);
        Assert.Equal(34, q.Length);
        Assert.Equal((Half)(16f / 127), BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, 0)));
        Assert.Equal(-127, (sbyte)q[2]);
        Assert.Equal(0, (sbyte)q[2 + 16]);
        Assert.Equal((sbyte)MathF.Round(15 * 127f / 16, MidpointRounding.AwayFromZero), (sbyte)q[2 + 31]);
    }

    [Fact]
    public void Q4_0BlockLayoutPacksElementJAndJPlus16IntoOneByte()
    {
        var x = new float[32];
        x[0] = -8;    // the signed max: d = -8 / -8 = 1
        x[16] = 7;
        var q = GgmlQuantizer.Quantize(GgmlType.Q4_0, x);
        Assert.Equal(18, q.Length);
        Assert.Equal((Half)1, BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, 0)));
        Assert.Equal(0xF0, q[2]);            // element 0 → code 0 (low nibble), element 16 → code 15 (high nibble)
        Assert.Equal(0x88, q[2 + 5]);        // zeros → code 8 in both nibbles
        var y = GgmlQuantizer.Dequantize(GgmlType.Q4_0, q, 32);
        Assert.Equal(-8f, y[0]);
        Assert.Equal(7f, y[16]);
        Assert.Equal(0f, y[5]);
    }

    [Fact]
    public void KQuantsReconstructAConstantBlockExactly()
    {
        var x = Enumerable.Repeat(0.375f, 256).ToArray();
        foreach (var t in new[] { GgmlType.Q4_K, GgmlType.Q6_K })
        {
            var y = GgmlQuantizer.Dequantize(t, GgmlQuantizer.Quantize(t, x), 256);
            Assert.All(y, v => Assert.Equal(0.375f, v, 0.375f * 2e-3f));
        }
    }

    [Fact]
    public void AllZeroBlocksStayZero()
    {
        var x = new float[512];
        foreach (var t in new[] { GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_K, GgmlType.Q6_K })
            Assert.All(GgmlQuantizer.Dequantize(t, GgmlQuantizer.Quantize(t, x), x.Length), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Fp16AndBf16RoundToNearestEven()
    {
        // 1 + 2^-11 is exactly halfway between two fp16 values: ties go to the even mantissa (1.0).
        var tie = 1f + MathF.Pow(2, -11);
        Assert.Equal(1f, GgmlQuantizer.Dequantize(GgmlType.F16, GgmlQuantizer.Quantize(GgmlType.F16, [tie]), 1)[0]);
        // bf16: 1 + 2^-8 is halfway between 1 and 1 + 2^-7; goes to 1. 1 + 3·2^-8 goes up to 1 + 2^-6.
        var bf = GgmlQuantizer.Dequantize(GgmlType.BF16, GgmlQuantizer.Quantize(GgmlType.BF16, [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8)]), 2);
        Assert.Equal(1f, bf[0]);
        Assert.Equal(1f + MathF.Pow(2, -6), bf[1]);
    }

    [Fact]
    public void RowsThatAreNotWholeBlocksAreRejected()
    {
        Assert.Throws<ArgumentException>(() => GgmlQuantizer.Quantize(GgmlType.Q4_K, new float[128]));
    }
}
