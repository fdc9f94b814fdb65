using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>An entry of tokenizer.json "added_tokens": a string matched in raw text before the model runs.</summary>
public sealed record AddedToken(int Id, string Content, bool SingleWord, bool LStrip, bool RStrip, bool Normalized, bool Special)
{
    internal static AddedToken FromJson(JsonElement json, string source, int index)
    {
        if (!json.TryGetProperty("id", out var id) || !json.TryGetProperty("content", out var content))
            throw new FormatException($"{source}: added_tokens[{index}] needs \"id\" and \"content\".");
        var special = Json.Bool(json, "special", false);
        return new AddedToken(id.GetInt32(), content.GetString() ?? "", Json.Bool(json, "single_word", false),
            Json.Bool(json, "lstrip", false), Json.Bool(json, "rstrip", false), Json.Bool(json, "normalized", !special), special);
    }
}
