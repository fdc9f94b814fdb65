namespace FineTune.Data;

public enum IssueSeverity { Error, Warning }

/// <summary>
/// A problem found in an uploaded file. <see cref="Line"/> is 1-based in the uploaded file, <see cref="Record"/> the
/// 1-based record number, <see cref="Field"/> a JSON path-like field name (<c>messages[2].role</c>) when one is at fault.
/// </summary>
public sealed record DataIssue(IssueSeverity Severity, long? Line, long? Record, string? Field, string Message)
{
    public static DataIssue Error(long? line, long? record, string? field, string message) => new(IssueSeverity.Error, line, record, field, message);
    public static DataIssue Warning(long? line, long? record, string? field, string message) => new(IssueSeverity.Warning, line, record, field, message);

    public override string ToString()
    {
        var where = string.Join(", ", new[]
        {
            Line is { } l ? $"line {l}" : null,
            Record is { } r ? $"record {r}" : null,
            Field is { } f ? $"field '{f}'" : null,
        }.Where(s => s is not null));
        return where.Length == 0 ? Message : $"{where}: {Message}";
    }
}
