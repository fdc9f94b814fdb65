namespace FineTune.Training.Sft;

/// <summary>
/// The order rows are visited in: each epoch is a seeded permutation (Fisher–Yates over System.Random(seed), whose seeded
/// sequence is fixed across .NET versions), cut into micro-batches (the last one may be short). The cursor is the
/// global micro-batch index, so resuming needs only that number.
/// </summary>
public sealed class MicroBatchOrder
{
    private readonly int _rows;
    private readonly int _seed;
    private readonly bool _shuffle;
    private int _cachedEpoch = -1;
    private int[] _cachedPermutation = [];

    public MicroBatchOrder(int rows, int microBatchSize, int seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatchSize, 1);
        _rows = rows;
        _seed = seed;
        _shuffle = shuffle;
        MicroBatchSize = microBatchSize;
        MicroBatchesPerEpoch = (rows + microBatchSize - 1) / microBatchSize;
    }

    public int MicroBatchSize { get; }

    public int MicroBatchesPerEpoch { get; }

    /// <summary>Row indices of global micro-batch <paramref name="index"/>.</summary>
    public int[] RowsOf(long index)
    {
        var epoch = (int)(index / MicroBatchesPerEpoch);
        var within = (int)(index % MicroBatchesPerEpoch);
        var permutation = PermutationOf(epoch);
        var start = within * MicroBatchSize;
        return permutation[start..Math.Min(start + MicroBatchSize, _rows)];
    }

    /// <summary>Fractional epoch reached after <paramref name="microBatches"/> micro-batches.</summary>
    public double EpochAt(long microBatches) => (double)microBatches / MicroBatchesPerEpoch;

    private int[] PermutationOf(int epoch)
    {
        if (epoch == _cachedEpoch) return _cachedPermutation;
        var p = Enumerable.Range(0, _rows).ToArray();
        if (_shuffle)
        {
            var random = new Random(unchecked(_seed * 1_000_003 + epoch));
            for (var i = p.Length - 1; i > 0; i--)
            {
                var j = random.Next(i + 1);
                (p[i], p[j]) = (p[j], p[i]);
            }
        }
        _cachedEpoch = epoch;
        _cachedPermutation = p;
        return p;
    }
}
