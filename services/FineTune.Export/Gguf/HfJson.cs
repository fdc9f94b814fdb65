// Small helpers for reading Hugging Face JSON files with errors that name the file and field.
using System.Text.Json;

namespace FineTune.Export.Gguf;

internal static class HfJson
{
    public static JsonDocument Load(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: invalid JSON at line {ex.LineNumber + 1}: {ex.Message}", ex);
        }
    }

    public static JsonDocument? TryLoad(string path) => File.Exists(path) ? Load(path) : null;

    public static JsonElement? Prop(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static int RequireInt(this JsonElement e, string name, string file) =>
        e.Prop(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var i) ? i
            : throw new InvalidDataException($"{file}: field '{name}' is missing or not an integer.");

    public static int? Int(this JsonElement e, string name) => e.Prop(name) is { ValueKind: JsonValueKind.Number } v && v.TryGetInt32(out var i) ? i : null;

    public static double? Double(this JsonElement e, string name) => e.Prop(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : null;

    public static string? Str(this JsonElement e, string name) => e.Prop(name) is { ValueKind: JsonValueKind.String } v ? v.GetString() : null;

    public static bool? Bool(this JsonElement e, string name) => e.Prop(name) is { } v && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    /// <summary>A special-token field of tokenizer_config.json: a string or an AddedToken object with "content".</summary>
    public static string? TokenContent(this JsonElement e, string name) => e.Prop(name) switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => o.Str("content"),
        _ => null,
    };
}
