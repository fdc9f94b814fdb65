namespace FineTune.Data.Storage;

/// <summary>
/// The outcome of an upload: stored (possibly already there: same content), or rejected with nothing stored.
/// <see cref="Warnings"/> holds the first reported warnings, <see cref="WarningCount"/> counts them all.
/// </summary>
public abstract record IngestResult(string Format, IReadOnlyList<DataIssue> Warnings, long WarningCount)
{
    public sealed record Stored(DatasetInfo Info, bool Existed, string DetectedFormat, IReadOnlyList<DataIssue> FirstWarnings, long AllWarnings)
        : IngestResult(DetectedFormat, FirstWarnings, AllWarnings);

    public sealed record Rejected(IReadOnlyList<DataIssue> Errors, long ErrorCount, string DetectedFormat, IReadOnlyList<DataIssue> FirstWarnings, long AllWarnings)
        : IngestResult(DetectedFormat, FirstWarnings, AllWarnings);
}
