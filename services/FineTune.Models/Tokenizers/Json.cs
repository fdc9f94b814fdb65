using System.Text.Json;

namespace FineTune.Models.Tokenizers;

/// <summary>Small readers for the shapes tokenizer.json and tokenizer_config.json use.</summary>
internal static class Json
{
    public static bool Bool(JsonElement obj, string name, bool fallback) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    public static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A pattern object: {"String": "…"} or {"Regex": "…"}.</summary>
    public static SplitPattern Pattern(JsonElement pattern, string source)
    {
        if (pattern.TryGetProperty("String", out var s)) return SplitPattern.Literal(s.GetString() ?? "", source);
        if (pattern.TryGetProperty("Regex", out var r)) return SplitPattern.FromOniguruma(r.GetString() ?? "", source);
        throw new FormatException($"{source}: pattern must be {{\"String\": …}} or {{\"Regex\": …}}.");
    }

    /// <summary>A token given as a plain string or as an AddedToken object {"content": …}; null when absent or null.</summary>
    public static string? TokenContent(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object => String(v, "content"),
            _ => null,
        };
    }
}
