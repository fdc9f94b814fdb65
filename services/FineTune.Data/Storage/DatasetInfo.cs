namespace FineTune.Data.Storage;

/// <summary>Metadata of a stored dataset (meta.json in its folder, and the <c>ft:dataset:{id}</c> hash in Redis).</summary>
public sealed record DatasetInfo
{
    public required string Id { get; init; }
    /// <summary>SHA-256 of the canonical records (each line + '\n').</summary>
    public required string Hash { get; init; }
    /// <summary>A label given at upload: never used as a path.</summary>
    public required string Name { get; init; }
    public required string Format { get; init; }
    public required DatasetStats Stats { get; init; }
    public required int TrainRecords { get; init; }
    public required int EvalRecords { get; init; }
    public required double EvalRatio { get; init; }
    public required int Seed { get; init; }
    public required int Duplicates { get; init; }
    public required int DuplicatesDropped { get; init; }
    public required int Warnings { get; init; }
    public required long UploadBytes { get; init; }
    public required DateTimeOffset Created { get; init; }
}

/// <summary>Counts over the canonical records: turns are messages (system included); chars are UTF-16 content chars.</summary>
public sealed record DatasetStats(long Records, long Turns, long Chars, long TokenEstimate, int MaxTokenEstimate)
{
    public double MeanTurns => Records == 0 ? 0 : (double)Turns / Records;
    public double MeanTokenEstimate => Records == 0 ? 0 : (double)TokenEstimate / Records;
}
