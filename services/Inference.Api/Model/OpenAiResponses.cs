using System.Text.Json;
using System.Text.Json.Serialization;

namespace Inference.Api.Model;

/// <summary>The OpenAI response shapes this service writes (snake_case, nulls kept where OpenAI keeps them).</summary>
public static class OpenAiJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}

public sealed record ModelObject(string Id, long Created, string OwnedBy)
{
    public string Object => "model";
}

public sealed record ModelList(IReadOnlyList<ModelObject> Data)
{
    public string Object => "list";
}

public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

public sealed record AssistantMessage(string Content)
{
    public string Role => "assistant";
}

public sealed record Choice(int Index, AssistantMessage Message, string FinishReason);

public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<Choice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
}

public sealed record Delta([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);

public sealed record ChunkChoice(int Index, Delta Delta, string? FinishReason);

public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChunkChoice> Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Usage? Usage = null)
{
    public string Object => "chat.completion.chunk";
}
