using System.Text.Json;

namespace FineTune.Models.Core;

/// <summary>
/// Reads a JSON file of a model folder (tokenizer.json, tokenizer_config.json) or one a user hands in (a chat's messages)
/// into a detached element. A syntax error is a <see cref="FormatException"/> naming the file, line and byte.
/// </summary>
public static class JsonFile
{
    public static JsonElement Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Parses <paramref name="bytes"/>, naming <paramref name="path"/> in errors (trailing commas allowed, as Python's tokenizers write none but people do).</summary>
    public static JsonElement Parse(byte[] bytes, string path)
    {
        try
        {
            var json = bytes.AsMemory();
            if (json.Span.StartsWith("\uFEFF"u8)) json = json[3..];   // a BOM, as File.ReadAllText would drop it
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true });
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}: invalid JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine}: {e.Message}", e);
        }
    }
}
