using System.Text.Json.Nodes;
using NJsonSchema;

namespace FineTune.AppHost.Tests;

/// <summary>
/// Loads a JSON schema for NJsonSchema. NJsonSchema 11 cannot read boolean subschemas (draft 6+: <c>true</c> accepts
/// everything, <c>false</c> nothing), which Aspire's schema uses (e.g. <c>"build": false</c> in container.v0), so they are
/// rewritten to their object equivalents, <c>{}</c> and <c>{"not": {}}</c>, before parsing. Nor does it enforce
/// <c>const</c> (which the schema uses to tell resource types apart), so <c>{"const": x}</c> becomes the equivalent
/// <c>{"enum": [x]}</c>. Nothing else changes.
/// </summary>
public static class SchemaLoader
{
    private static readonly string[] SchemaMaps = ["properties", "patternProperties", "definitions", "$defs", "dependentSchemas"];
    private static readonly string[] SchemaLists = ["oneOf", "anyOf", "allOf", "prefixItems"];
    private static readonly string[] SchemaValues = ["not", "items", "contains", "if", "then", "else", "propertyNames", "additionalItems"];

    public static async Task<JsonSchema> LoadAsync(string path)
    {
        var root = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Rewrite(root);
        return await JsonSchema.FromJsonAsync(root.ToJsonString(), path);
    }

    private static JsonNode Schema(JsonNode? node)
    {
        if (node is JsonValue value && value.TryGetValue<bool>(out var accept))
            return accept ? new JsonObject() : new JsonObject { ["not"] = new JsonObject() };
        Rewrite(node);
        return node!;
    }

    private static void Rewrite(JsonNode? node)
    {
        if (node is not JsonObject schema)
            return;
        if (schema["const"] is JsonNode constant && schema["enum"] is null)
        {
            schema.Remove("const");
            schema["enum"] = new JsonArray(constant.DeepClone());
        }
        foreach (var key in SchemaMaps)
            if (schema[key] is JsonObject map)
                foreach (var name in map.Select(p => p.Key).ToList())
                    map[name] = Schema(map[name]?.DeepClone());
        foreach (var key in SchemaLists)
            if (schema[key] is JsonArray list)
                for (var i = 0; i < list.Count; i++)
                    list[i] = Schema(list[i]?.DeepClone());
        foreach (var key in SchemaValues)
            if (schema[key] is JsonNode child and not JsonArray)
                schema[key] = Schema(child.DeepClone());
        if (schema["additionalProperties"] is JsonObject additional)
            Rewrite(additional);
    }
}
