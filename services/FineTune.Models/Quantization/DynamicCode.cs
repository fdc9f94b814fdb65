namespace FineTune.Models.Quantization;

/// <summary>
/// bitsandbytes' signed 8-bit dynamic code (Dettmers 2016, "8-bit approximations"): 256 values in [-1, 1], dense near
/// zero. For each decade exponent e = 0..6 the fractions are the midpoints of 2^e + 1 points spaced evenly over
/// [0.1, 1], scaled by 10^(e−6), with both signs; plus 0 and 1. Sorted ascending. Used for the second quantization of NF4
/// block scales. Written by hand from the published construction.
/// </summary>
public static class DynamicCode
{
    public static readonly float[] Signed = Build();

    private static float[] Build()
    {
        const int maxExponentBits = 7;
        var values = new List<float>(256);
        for (var i = 0; i < maxExponentBits; i++)
        {
            var points = (1 << i) + 1;
            var scale = Math.Pow(10, -(maxExponentBits - 1) + i);
            for (var j = 0; j + 1 < points; j++)
            {
                var low = 0.1 + 0.9 * j / (points - 1);
                var high = 0.1 + 0.9 * (j + 1) / (points - 1);
                var mean = (float)((float)low + (float)high) / 2f;
                values.Add((float)(scale * mean));
                values.Add((float)(-scale * mean));
            }
        }
        values.Add(0f);
        values.Add(1f);
        values.Sort();
        return [.. values];
    }
}
