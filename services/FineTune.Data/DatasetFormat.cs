namespace FineTune.Data;

/// <summary>
/// Record shapes an upload may have. <see cref="Auto"/> detects the container (JSON array, JSON lines, text blocks, CSV)
/// from the first bytes and the shape of each JSON record from its keys; any other value forces that shape
/// (and, for JSON shapes, still accepts either container).
/// </summary>
public enum DatasetFormat
{
    Auto,
    /// <summary><c>{"input", "output"}</c>; output may be a JSON object (kept, serialized canonically).</summary>
    InputOutput,
    /// <summary><c>{"instruction", "output"}</c> or Alpaca <c>{"instruction", "input", "output"}</c>.</summary>
    Instruction,
    /// <summary><c>{"messages": [{"role", "content"}…]}</c>.</summary>
    Chat,
    /// <summary><c>{"conversations": [{"from", "value"}…]}</c>.</summary>
    ShareGpt,
    /// <summary>
    /// TRL's and OpenAI's <c>{"prompt", "completion"}</c>: two strings, or TRL's conversational form, two lists of
    /// <c>{"role", "content"}</c> messages.
    /// </summary>
    PromptCompletion,
    /// <summary><c>### Instruction:</c> / <c>### Response:</c> blocks (or <c>### 指令:</c> / <c>### 回答:</c>).</summary>
    Text,
    /// <summary>Two columns: prompt, answer; an optional header row.</summary>
    Csv,
}

public static class DatasetFormats
{
    /// <summary>Parses the names the API accepts: auto, input-output, instruction (alpaca), chat (messages), sharegpt, prompt-completion, text, csv.</summary>
    public static bool TryParse(string? value, out DatasetFormat format)
    {
        format = (value ?? "auto").Trim().ToLowerInvariant() switch
        {
            "" or "auto" => DatasetFormat.Auto,
            "input-output" or "inputoutput" or "io" => DatasetFormat.InputOutput,
            "instruction" or "alpaca" => DatasetFormat.Instruction,
            "chat" or "messages" => DatasetFormat.Chat,
            "sharegpt" => DatasetFormat.ShareGpt,
            "prompt-completion" or "completion" => DatasetFormat.PromptCompletion,
            "text" or "txt" => DatasetFormat.Text,
            "csv" => DatasetFormat.Csv,
            _ => (DatasetFormat)(-1),
        };
        return Enum.IsDefined(format);
    }

    public static string Name(DatasetFormat format) => format switch
    {
        DatasetFormat.InputOutput => "input-output",
        DatasetFormat.Instruction => "instruction",
        DatasetFormat.Chat => "chat",
        DatasetFormat.ShareGpt => "sharegpt",
        DatasetFormat.PromptCompletion => "prompt-completion",
        DatasetFormat.Text => "text",
        DatasetFormat.Csv => "csv",
        _ => "auto",
    };
}
