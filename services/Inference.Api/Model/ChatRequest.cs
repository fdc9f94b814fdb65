using System.Text;
using System.Text.Json;
using FineTune.Models.Core.ChatTemplates;

namespace Inference.Api.Model;

/// <summary>
/// The fields of an OpenAI chat completion request this service honours, validated with the field named in every error.
/// Accepted and ignored: <c>user</c>, <c>logprobs: false</c>, penalties of 0, <c>n: 1</c>; anything else known to OpenAI that
/// would change the answer is refused rather than silently dropped.
/// </summary>
public sealed record ChatRequest(string Model, IReadOnlyList<ChatMessage> Messages, bool Stream, bool IncludeUsage, int? MaxTokens,
    double Temperature, double TopP, long? Seed, IReadOnlyList<string> Stop)
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant"];

    public static ChatRequest Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw OpenAiException.BadRequest("The request body must be a JSON object.");
        var model = String(root, "model") ?? throw OpenAiException.BadRequest("'model' is required.", "model");
        var messages = ReadMessages(root);
        var stream = Bool(root, "stream") ?? false;
        var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object && (Bool(so, "include_usage", "stream_options.include_usage") ?? false);
        var maxTokens = Int(root, "max_completion_tokens") ?? Int(root, "max_tokens");
        if (maxTokens is < 1) throw OpenAiException.BadRequest($"max_tokens must be at least 1, got {maxTokens}.", root.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens");
        var temperature = Number(root, "temperature") ?? 1.0;
        if (temperature is < 0 or > 2) throw OpenAiException.BadRequest($"temperature must be between 0 and 2, got {temperature}.", "temperature");
        var topP = Number(root, "top_p") ?? 1.0;
        if (topP is <= 0 or > 1) throw OpenAiException.BadRequest($"top_p must be in (0, 1], got {topP}.", "top_p");
        if (Int(root, "n") is { } n && n != 1) throw OpenAiException.BadRequest($"n must be 1 (one choice per request), got {n}.", "n");
        foreach (var unsupported in new[] { "tools", "functions", "response_format", "logit_bias" })
            if (root.TryGetProperty(unsupported, out var v) && v.ValueKind != JsonValueKind.Null)
                throw OpenAiException.BadRequest($"'{unsupported}' is not supported by this server.", unsupported);
        if (Bool(root, "logprobs") == true) throw OpenAiException.BadRequest("logprobs are not supported by this server.", "logprobs");
        return new ChatRequest(model, messages, stream, includeUsage, maxTokens, temperature, topP, Long(root, "seed"), ReadStop(root));
    }

    private static List<ChatMessage> ReadMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var array) || array.ValueKind != JsonValueKind.Array)
            throw OpenAiException.BadRequest("'messages' is required: an array of {role, content}.", "messages");
        if (array.GetArrayLength() == 0) throw OpenAiException.BadRequest("'messages' must hold at least one message.", "messages");
        var messages = new List<ChatMessage>();
        var i = 0;
        foreach (var m in array.EnumerateArray())
        {
            var field = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw OpenAiException.BadRequest($"{field} must be an object with role and content.", field);
            var role = String(m, "role", $"{field}.role") ?? throw OpenAiException.BadRequest($"{field}.role is required.", $"{field}.role");
            if (!Roles.Contains(role))
                throw OpenAiException.BadRequest($"{field}.role '{role}' is not supported (system, developer, user, assistant).", $"{field}.role");
            messages.Add(new ChatMessage(role == "developer" ? "system" : role, Content(m, field)));
        }
        return messages;
    }

    /// <summary>A string, or an array of text parts (joined); other part types (images, audio) are refused.</summary>
    private static string Content(JsonElement message, string field)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            throw OpenAiException.BadRequest($"{field}.content is required.", $"{field}.content");
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array)
            throw OpenAiException.BadRequest($"{field}.content must be a string or an array of text parts.", $"{field}.content");
        var text = new StringBuilder();
        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partField = $"{field}.content[{j++}]";
            var type = part.ValueKind == JsonValueKind.Object ? String(part, "type", $"{partField}.type") : null;
            if (type != "text") throw OpenAiException.BadRequest($"{partField}: only parts of type 'text' are supported (got {type ?? part.ValueKind.ToString()}).", partField);
            text.Append(String(part, "text", $"{partField}.text") ?? throw OpenAiException.BadRequest($"{partField}.text is required.", $"{partField}.text"));
        }
        return text.ToString();
    }

    private static List<string> ReadStop(JsonElement root)
    {
        if (!root.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null) return [];
        List<string> stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(s => s.GetString()!)],
            _ => throw OpenAiException.BadRequest("stop must be a string or an array of strings.", "stop"),
        };
        if (stops.Count > 4) throw OpenAiException.BadRequest($"stop holds at most 4 sequences, got {stops.Count}.", "stop");
        if (stops.Any(s => s.Length == 0)) throw OpenAiException.BadRequest("stop sequences must not be empty.", "stop");
        return stops;
    }

    private static string? String(JsonElement o, string name, string? field = null) => Get(o, name, field, JsonValueKind.String, "a string", e => e.GetString()!);

    private static bool? Bool(JsonElement o, string name, string? field = null) =>
        o.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : Get<bool?>(o, name, field, JsonValueKind.True, "true or false", _ => true);

    private static double? Number(JsonElement o, string name) => Get<double?>(o, name, null, JsonValueKind.Number, "a number", e => e.GetDouble());

    private static int? Int(JsonElement o, string name) =>
        Get<int?>(o, name, null, JsonValueKind.Number, "an integer", e => e.TryGetInt32(out var i) ? i : throw OpenAiException.BadRequest($"{name} must be an integer, got {e.GetRawText()}.", name));

    private static long? Long(JsonElement o, string name) =>
        Get<long?>(o, name, null, JsonValueKind.Number, "an integer", e => e.TryGetInt64(out var i) ? i : throw OpenAiException.BadRequest($"{name} must be an integer, got {e.GetRawText()}.", name));

    private static T? Get<T>(JsonElement o, string name, string? field, JsonValueKind kind, string what, Func<JsonElement, T> read)
    {
        if (!o.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return default;
        field ??= name;
        if (v.ValueKind != kind) throw OpenAiException.BadRequest($"{field} must be {what}, got {v.GetRawText()}.", field);
        return read(v);
    }
}
