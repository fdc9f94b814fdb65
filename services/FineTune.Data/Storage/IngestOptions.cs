using FineTune.Data.Import;

namespace FineTune.Data.Storage;

/// <summary>How one upload is read, validated, split and stored.</summary>
public sealed record IngestOptions
{
    /// <summary>A label only (any text, trimmed to 200 characters); it never reaches the filesystem.</summary>
    public string Name { get; init; } = "dataset";
    public DatasetFormat Format { get; init; } = DatasetFormat.Auto;
    /// <summary>Drop exact duplicate records (after normalisation) instead of only reporting them.</summary>
    public bool DropDuplicates { get; init; }
    /// <summary>Fraction of records put in the eval split (0 = none).</summary>
    public double EvalRatio { get; init; } = 0.1;
    public int Seed { get; init; } = 42;
    /// <summary>Records longer than this many tokens are errors when <see cref="TokenCounter"/> is set, warnings when estimated.</summary>
    public int? MaxTokens { get; init; }
    public ITokenCounter? TokenCounter { get; init; }
    public int MaxRecordBytes { get; init; } = DatasetReader.DefaultMaxRecordBytes;
    /// <summary>How many errors (and, separately, warnings) are kept for the report; all are counted.</summary>
    public int MaxReportedIssues { get; init; } = 20;
}
