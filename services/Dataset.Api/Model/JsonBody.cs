using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Data.Import;

namespace Dataset.Api.Model;

/// <summary>
/// A small JSON object from a request (the job options), read whole with a size limit and checked to be UTF-8 before it
/// is parsed: System.Text.Json accepts invalid UTF-8 inside strings and fails only when the string is later read.
/// </summary>
public static class JsonBody
{
    public const int MaxBytes = 1024 * 1024;

    /// <summary>The object, or an error naming <paramref name="what"/> (and the line, for bad bytes).</summary>
    public static async Task<(JsonObject? Body, string? Error)> ReadObjectAsync(Stream stream, string what, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes) return (null, $"{what} is over {MaxBytes} bytes");
            buffer.Write(chunk, 0, read);
        }
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (Utf8Validation.Check(bytes.Span, 1, null) is { } encoding)
            return (null, $"{what} is not valid JSON: line {encoding.Line}: {encoding.Message}");
        try
        {
            return JsonNode.Parse(bytes.Span) is JsonObject body ? (body, null) : (null, $"{what} must be a JSON object");
        }
        catch (JsonException ex)
        {
            return (null, $"{what} is not valid JSON: {ex.Message}");
        }
    }
}
