using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Formats.Tests.Gguf;

/// <summary>The vectorised half conversions give .NET's casts' bits, ties and the edges of the half range included.</summary>
public sealed class HalfConversionTests
{
    [Fact]
    public void EveryHalfWidensToTheFloatItsCastGives()
    {
        var halves = Enumerable.Range(0, 65536).Select(i => (ushort)i).ToArray();
        var floats = new float[halves.Length];
        HalfConversion.ToSingle(halves, floats);
        for (var i = 0; i < halves.Length; i++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf(halves[i]);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(floats[i]) || float.IsNaN(expected) && float.IsNaN(floats[i]),
                $"half 0x{halves[i]:X4}: expected {expected:R}, got {floats[i]:R}");
        }
    }

    [Fact]
    public void FloatsNarrowToTheHalfTheirCastGivesAtEveryTieAndEdge()
    {
        var x = NarrowingCases().ToArray();
        var bits = new ushort[x.Length];
        HalfConversion.FromSingle(x, bits);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = BitConverter.HalfToUInt16Bits((Half)x[i]);
            Assert.True(expected == bits[i], $"float {x[i]:R} (0x{BitConverter.SingleToUInt32Bits(x[i]):X8}): expected 0x{expected:X4}, got 0x{bits[i]:X4}");
        }
    }

    [Fact]
    public void NaNNarrowsToAQuietNaNWithItsSign()
    {
        var x = Enumerable.Repeat(float.NaN, 16).Select((v, i) => i % 2 == 0 ? v : -v).ToArray();
        var bits = new ushort[x.Length];
        HalfConversion.FromSingle(x, bits);
        Assert.All(bits, b => Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(b))));
    }

    /// <summary>
    /// Every half's value, the midpoints between neighbouring halves (exact ties) and one float step either side of
    /// them, the overflow threshold, float subnormals, ±0, ±∞, and random floats of every exponent.
    /// </summary>
    private static IEnumerable<float> NarrowingCases()
    {
        for (var h = 0; h < 0x7c00; h++)
        {
            var value = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            var next = (float)BitConverter.UInt16BitsToHalf((ushort)(h + 1));
            var mid = (float)(((double)value + next) / 2);
            foreach (var v in new[] { value, mid, MathF.BitDecrement(mid), MathF.BitIncrement(mid) })
            {
                yield return v;
                yield return -v;
            }
        }
        foreach (var v in new[] { 65504f, 65519.996f, 65520f, 65536f, 1e10f, float.MaxValue, float.Epsilon, 1e-40f, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity })
        {
            yield return v;
            yield return -v;
        }
        var rng = new Random(11);
        for (var i = 0; i < 200_000; i++) yield return BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 0x7f800000)) * (rng.Next(2) == 0 ? 1 : -1);
    }
}
