using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Training.Evaluation;

/// <summary>
/// Exact match of JSON answers: both sides parsed and compared as JSON values (object key order ignored, numbers by value,
/// strings exactly). Text that is not valid JSON never matches.
/// </summary>
public static class JsonExactMatch
{
    public static bool Matches(string generated, string expected)
    {
        var a = TryParse(generated);
        var b = TryParse(expected);
        return a is not null && b is not null && JsonNode.DeepEquals(a, b);
    }

    private static JsonNode? TryParse(string text)
    {
        try { return JsonNode.Parse(text.Trim()); }
        catch (JsonException) { return null; }
    }
}
