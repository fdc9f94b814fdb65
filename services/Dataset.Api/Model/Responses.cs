using FineTune.Data;
using FineTune.Data.Storage;

namespace Dataset.Api.Model;

/// <summary>One issue as the API reports it (problem details "errors", upload "warnings").</summary>
public sealed record IssueDto(long? Line, long? Record, string? Field, string Message)
{
    public static IssueDto From(DataIssue issue) => new(issue.Line, issue.Record, issue.Field, issue.Message);
}

/// <summary>Upload result: the dataset, whether it existed already (same content), warnings, and the preprocess request if one was queued.</summary>
public sealed record UploadResponse(DatasetInfo Dataset, bool Existed, long WarningCount, IReadOnlyList<IssueDto> Warnings, string? PreprocessRequestId);

/// <summary>A preview record: the canonical messages and a neutral rendering (### System/User/Assistant sections).</summary>
public sealed record PreviewRecord(int Index, IReadOnlyList<ChatTurn> Messages, string Rendered);

public sealed record PreviewResponse(string Id, string Split, IReadOnlyList<PreviewRecord> Records);

public sealed record PreprocessResponse(string RequestId, string Stream);
