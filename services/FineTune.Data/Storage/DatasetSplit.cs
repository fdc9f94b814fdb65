using System.Collections;

namespace FineTune.Data.Storage;

/// <summary>
/// Deterministic train/eval split: <c>round(N × ratio)</c> records (at least 1 and at most N − 1 when the ratio is
/// positive and N ≥ 2) chosen by a partial Fisher–Yates shuffle driven by <c>new Random(seed)</c>, whose sequence for a
/// given seed is fixed across .NET versions. Records keep their file order inside each split.
/// </summary>
public static class DatasetSplit
{
    public static int EvalCount(int records, double ratio)
    {
        if (ratio <= 0 || records < 2) return 0;
        return Math.Clamp((int)Math.Round(records * ratio, MidpointRounding.AwayFromZero), 1, records - 1);
    }

    public static BitArray EvalMembers(int records, double ratio, int seed)
    {
        var members = new BitArray(records);
        var count = EvalCount(records, ratio);
        var indices = new int[records];
        for (var i = 0; i < records; i++) indices[i] = i;
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var j = random.Next(i, records);
            (indices[i], indices[j]) = (indices[j], indices[i]);
            members[indices[i]] = true;
        }
        return members;
    }
}
