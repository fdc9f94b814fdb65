using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

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

    /// <summary>The "type" of a component; a missing one is an error naming the file and the JSON path.</summary>
    public static string Type(JsonElement json, string source, string path)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new FormatException($"{source}: {path} must be an object with a \"type\".");
        return String(json, "type") ?? throw new FormatException($"{source}: {path} has no \"type\".");
    }

    /// <summary>A required property; missing, it is an error naming where.</summary>
    public static JsonElement Required(JsonElement json, string name, string where) =>
        json.TryGetProperty(name, out var v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? v : throw new FormatException($"{where}: \"{name}\" is required.");

    /// <summary>The elements of a required array property.</summary>
    public static IEnumerable<JsonElement> Array(JsonElement json, string name, string where)
    {
        var v = Required(json, name, where);
        if (v.ValueKind != JsonValueKind.Array) throw new FormatException($"{where}: \"{name}\" must be an array.");
        return v.EnumerateArray();
    }

    /// <summary>The one-line refusal of a component we do not implement: file, JSON path, stage and type.</summary>
    public static NotSupportedException Unsupported(string source, string path, string stage, string? type, string supported) =>
        new($"{source}: {path}: {stage} type '{type}' is not supported (supported: {supported}).");
}
