using FineTune.Data.Storage;

namespace Dataset.Api.Model;

/// <summary>The detail line of a rejected upload's problem: the count and the first error in full (line, record, field, message).</summary>
public static class RejectionDetail
{
    public static string Describe(IngestResult.Rejected rejected)
    {
        var listed = rejected.ErrorCount > rejected.Errors.Count ? $"; the first {rejected.Errors.Count} are listed" : "";
        var first = rejected.Errors.Count > 0 ? $" First: {rejected.Errors[0]}." : "";
        return $"{rejected.ErrorCount} error(s) found{listed}.{first} Nothing was stored.";
    }
}
