// Vector256 forms of the scalar float idioms the reference quantizers use (MathF.Max over |x|, MathF.Round away from
// zero then a cast to sbyte, nearest_int's magic add, Math.Clamp), each giving, lane by lane, exactly the
// bits of its scalar counterpart (NaN and ±Inf included), so vectorised quantizers write the reference's bytes.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FineTune.Formats.Gguf.Quantization;

internal static class LaneMath
{
    /// <summary>The largest |x| of a block <paramref name="x"/> loaded as four vectors; NaN when any element is NaN (as MathF.Max folds it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAbs(ReadOnlySpan<float> x, Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d)
    {
        var anyNan = ~(Vector256.Equals(a, a) & Vector256.Equals(b, b) & Vector256.Equals(c, c) & Vector256.Equals(d, d));
        if (anyNan != Vector256<float>.Zero) return ScalarMaxAbs(x);
        // Without NaNs every |x| is ≥ +0, so the largest lane is exactly what the scalar MathF.Max fold gives.
        return LargestLane(Vector256.MaxNative(Vector256.MaxNative(Vector256.Abs(a), Vector256.Abs(b)), Vector256.MaxNative(Vector256.Abs(c), Vector256.Abs(d))));
    }

    /// <summary>The largest of eight lanes that hold no NaN and nothing below +0, where the order of the comparisons cannot change the result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LargestLane(Vector256<float> m)
    {
        var m4 = Vector128.MaxNative(m.GetLower(), m.GetUpper());
        m4 = Vector128.MaxNative(m4, Vector128.Shuffle(m4, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(m4.ToScalar(), m4.GetElement(1));
    }

    /// <summary>The scalar fold, for blocks holding a NaN (its sign and payload come out as MathF.Max gives them).</summary>
    private static float ScalarMaxAbs(ReadOnlySpan<float> x)
    {
        float amax = 0;
        foreach (var v in x) amax = MathF.Max(amax, MathF.Abs(v));
        return amax;
    }

    /// <summary>
    /// (int)roundf(v) as compiled C converts it on this machine (the platform's native float→int conversion: on x86,
    /// NaN and values beyond ±2^31 become int.MinValue), so that C's cast to int8_t, the int's low byte as
    /// Vector256.Narrow keeps it, gives llama.cpp's bytes even for the infinite quotients of a subnormal scale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> RoundAway(Vector256<float> v)
    {
        var t = Vector256.Truncate(v);
        var half = Vector256.GreaterThanOrEqual(Vector256.Abs(v - t), Vector256.Create(0.5f));
        var step = Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), Vector256.Create(-1f), Vector256.Create(1f));
        return Vector256.ConvertToInt32Native(t + (step & half));
    }

    /// <summary>nearest_int: the 1.5·2^23 magic add (round half to even for |f| &lt; 2^22), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> NearestInt(Vector256<float> f) =>
        ((f + Vector256.Create(12582912f)).AsInt32() & Vector256.Create(0x007fffff)) - Vector256.Create(0x00400000);

    /// <summary>Math.Clamp(v, lo, hi) on ints.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Clamp(Vector256<int> v, int lo, int hi) =>
        Vector256.Min(Vector256.Max(v, Vector256.Create(lo)), Vector256.Create(hi));

    /// <summary>The lanes of <paramref name="whenTrue"/> where <paramref name="mask"/> is set, else of <paramref name="otherwise"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Select<T>(Vector256<T> mask, Vector256<T> whenTrue, Vector256<T> otherwise) =>
        Vector256.ConditionalSelect(mask, whenTrue, otherwise);
}
