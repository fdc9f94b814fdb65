using System.Text.Json;

namespace FineTune.Data.Import;

/// <summary>
/// Maps one parsed JSON record of any JSON format (input/output, instruction/Alpaca, chat messages, ShareGPT,
/// prompt/completion) to the
/// canonical <see cref="Conversation"/>, reporting missing or ill-typed fields by name.
/// </summary>
public static class JsonRecordMapper
{
    /// <summary>Detects the record's shape from its keys (the first matching rule wins).</summary>
    public static DatasetFormat DetectShape(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object) return DatasetFormat.Auto;
        if (record.TryGetProperty("messages", out _)) return DatasetFormat.Chat;
        if (record.TryGetProperty("conversations", out _)) return DatasetFormat.ShareGpt;
        if (record.TryGetProperty("instruction", out _)) return DatasetFormat.Instruction;
        if (record.TryGetProperty("prompt", out _) && (record.TryGetProperty("completion", out _) || record.TryGetProperty("chosen", out _)))
            return DatasetFormat.PromptCompletion;   // DPO's prompt/chosen/rejected too, to be refused by name
        if (record.TryGetProperty("input", out _) || record.TryGetProperty("output", out _)) return DatasetFormat.InputOutput;
        return DatasetFormat.Auto;
    }

    public static Conversation? Map(JsonElement record, DatasetFormat format, long line, long recordNumber, List<DataIssue> issues)
    {
        if (record.ValueKind != JsonValueKind.Object)
        {
            issues.Add(DataIssue.Error(line, recordNumber, null, $"expected a JSON object, found {record.ValueKind}"));
            return null;
        }
        var shape = format == DatasetFormat.Auto ? DetectShape(record) : format;
        var before = issues.Count;
        foreach (var unused in new[] { "tools", "functions" })
            if (record.TryGetProperty(unused, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
                issues.Add(DataIssue.Warning(line, recordNumber, unused, $"'{unused}' is not used: training renders the conversation without tool definitions"));
        Conversation? conversation = shape switch
        {
            DatasetFormat.InputOutput => MapPair(record, "input", null, line, recordNumber, issues),
            DatasetFormat.Instruction => MapPair(record, "instruction", "input", line, recordNumber, issues),
            DatasetFormat.Chat => MapTurns(record, "messages", "role", "content", line, recordNumber, issues),
            DatasetFormat.ShareGpt => MapTurns(record, "conversations", "from", "value", line, recordNumber, issues),
            DatasetFormat.PromptCompletion => MapPromptCompletion(record, line, recordNumber, issues),
            DatasetFormat.Auto => Unknown(line, recordNumber, issues),
            _ => Unsupported(shape, line, recordNumber, issues),
        };
        if (conversation is null || issues.Skip(before).Any(i => i.Severity == IssueSeverity.Error)) return null;
        return RecordRules.Check(conversation, line, recordNumber, "messages", issues) ? conversation : null;
    }

    private static Conversation? Unknown(long line, long record, List<DataIssue> issues)
    {
        issues.Add(DataIssue.Error(line, record, null,
            "cannot tell the record's format: expected 'messages', 'conversations', 'instruction', 'input'/'output' or 'prompt'/'completion' fields"));
        return null;
    }

    /// <summary>
    /// {"prompt", "completion"}: two strings (user, assistant), or TRL's conversational form, where both are lists of
    /// messages and the conversation is the prompt's followed by the completion's. Preference data (KTO's label, DPO's
    /// chosen/rejected) is refused: training on every completion would teach the rejected ones too.
    /// </summary>
    private static Conversation? MapPromptCompletion(JsonElement record, long line, long number, List<DataIssue> issues)
    {
        foreach (var preference in new[] { "label", "chosen", "rejected" })
            if (record.TryGetProperty(preference, out _))
            {
                issues.Add(DataIssue.Error(line, number, preference, $"a preference record ('{preference}': KTO/DPO data) cannot be used for supervised fine-tuning"));
                return null;
            }
        if (!record.TryGetProperty("prompt", out var prompt) || !record.TryGetProperty("completion", out var completion))
        {
            issues.Add(DataIssue.Error(line, number, record.TryGetProperty("prompt", out _) ? "completion" : "prompt",
                "missing required field: a prompt-completion record needs both 'prompt' and 'completion'"));
            return null;
        }
        if (prompt.ValueKind == JsonValueKind.Array && completion.ValueKind == JsonValueKind.Array)
        {
            var first = MapTurns(record, "prompt", "role", "content", line, number, issues);
            var second = MapTurns(record, "completion", "role", "content", line, number, issues);
            return first is null || second is null ? null : new Conversation([.. first.Messages, .. second.Messages]);
        }
        if (prompt.ValueKind != JsonValueKind.String || completion.ValueKind != JsonValueKind.String)
        {
            issues.Add(DataIssue.Error(line, number, prompt.ValueKind == JsonValueKind.String ? "completion" : "prompt",
                $"'prompt' and 'completion' must both be strings or both be lists of messages, found {prompt.ValueKind} and {completion.ValueKind}"));
            return null;
        }
        if (string.IsNullOrWhiteSpace(prompt.GetString())) { issues.Add(DataIssue.Error(line, number, "prompt", "empty content")); return null; }
        if (string.IsNullOrWhiteSpace(completion.GetString())) { issues.Add(DataIssue.Error(line, number, "completion", "empty content")); return null; }
        return new Conversation([new ChatTurn(Roles.User, prompt.GetString()!), new ChatTurn(Roles.Assistant, completion.GetString()!)]);
    }

    private static Conversation? Unsupported(DatasetFormat shape, long line, long record, List<DataIssue> issues)
    {
        issues.Add(DataIssue.Error(line, record, null, $"a JSON record cannot be read as format '{DatasetFormats.Name(shape)}'"));
        return null;
    }

    private static Conversation? MapPair(JsonElement record, string promptField, string? extraField, long line, long number, List<DataIssue> issues)
    {
        var turns = new List<ChatTurn>(3);
        var system = Text(record, "system", required: false, line, number, issues);
        if (!string.IsNullOrWhiteSpace(system)) turns.Add(new ChatTurn(Roles.System, system));
        var prompt = Text(record, promptField, required: true, line, number, issues);
        var extra = extraField is null ? null : Text(record, extraField, required: false, line, number, issues);
        var output = Text(record, "output", required: true, line, number, issues);
        if (prompt is null) return null;
        if (output is null)
        {
            issues.Add(DataIssue.Error(line, number, "output", "prompt-only record: there is no answer to learn from"));
            return null;
        }
        if (string.IsNullOrWhiteSpace(prompt)) { issues.Add(DataIssue.Error(line, number, promptField, "empty content")); return null; }
        if (string.IsNullOrWhiteSpace(output)) { issues.Add(DataIssue.Error(line, number, "output", "empty content")); return null; }
        var user = string.IsNullOrWhiteSpace(extra) ? prompt : prompt + "\n\n" + extra;
        turns.Add(new ChatTurn(Roles.User, user));
        turns.Add(new ChatTurn(Roles.Assistant, output));
        return new Conversation(turns);
    }

    /// <summary>A field as text: a string as is, any other JSON value (object, array, number…) serialized canonically.</summary>
    private static string? Text(JsonElement record, string field, bool required, long line, long number, List<DataIssue> issues)
    {
        if (!record.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required && field != "output")
                issues.Add(DataIssue.Error(line, number, field, $"missing required field '{field}'"));
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : CanonicalJson.ValueAsText(value);
    }

    private static Conversation? MapTurns(JsonElement record, string listField, string roleField, string contentField, long line, long number, List<DataIssue> issues)
    {
        if (!record.TryGetProperty(listField, out var list))
        {
            issues.Add(DataIssue.Error(line, number, listField, $"missing required field '{listField}'"));
            return null;
        }
        if (list.ValueKind != JsonValueKind.Array)
        {
            issues.Add(DataIssue.Error(line, number, listField, $"'{listField}' must be an array, found {list.ValueKind}"));
            return null;
        }
        if (list.GetArrayLength() == 0)
        {
            issues.Add(DataIssue.Error(line, number, listField, "empty conversation"));
            return null;
        }
        var turns = new List<ChatTurn>(list.GetArrayLength());
        var index = 0;
        var ok = true;
        foreach (var item in list.EnumerateArray())
        {
            var at = $"{listField}[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                issues.Add(DataIssue.Error(line, number, at, $"expected an object, found {item.ValueKind}"));
                ok = false;
                continue;
            }
            string? role = null;
            if (!item.TryGetProperty(roleField, out var r) || r.ValueKind != JsonValueKind.String)
                issues.Add(DataIssue.Error(line, number, $"{at}.{roleField}", $"missing or non-string '{roleField}'"));
            else
            {
                role = listField == "conversations" ? ShareGptRole(r.GetString()!) : r.GetString()!;
                if (role is null || !Roles.IsKnown(role))
                {
                    issues.Add(DataIssue.Error(line, number, $"{at}.{roleField}",
                        $"unknown role '{r.GetString()}' (expected {(listField == "conversations" ? "system, human/user or gpt/assistant" : "system, user or assistant")})"));
                    role = null;
                }
            }
            string? content = null;
            if (!item.TryGetProperty(contentField, out var c) || c.ValueKind == JsonValueKind.Null)
                issues.Add(DataIssue.Error(line, number, $"{at}.{contentField}", $"missing '{contentField}'"));
            else if (c.ValueKind != JsonValueKind.String)
                issues.Add(DataIssue.Error(line, number, $"{at}.{contentField}", $"'{contentField}' must be a string, found {c.ValueKind}"));
            else
                content = c.GetString();
            if (!WeightIsTrainable(item, role, at, line, number, issues)) ok = false;
            if (role is null || content is null) { ok = false; continue; }
            turns.Add(new ChatTurn(role, content));
        }
        return ok ? new Conversation(turns) : null;
    }

    /// <summary>
    /// OpenAI's per-message <c>weight</c> (assistant messages; 1 trains on the turn, 0 does not). Every assistant turn is
    /// trained on here, so weight 1 is accepted and weight 0 is refused: training on a turn its author excluded would be a
    /// silent change of the data.
    /// </summary>
    private static bool WeightIsTrainable(JsonElement item, string? role, string at, long line, long number, List<DataIssue> issues)
    {
        if (!item.TryGetProperty("weight", out var weight)) return true;
        var field = $"{at}.weight";
        if (weight.ValueKind != JsonValueKind.Number || !weight.TryGetInt32(out var w) || w is not (0 or 1))
            issues.Add(DataIssue.Error(line, number, field, $"'weight' must be 0 or 1, found {weight.GetRawText()}"));
        else if (role is not null && role != Roles.Assistant)
            issues.Add(DataIssue.Error(line, number, field, "'weight' applies to assistant messages only"));
        else if (w == 0)
            issues.Add(DataIssue.Error(line, number, field,
                "weight 0 (do not train on this turn) is not supported: every assistant turn is trained on; remove the turn, or its weight"));
        else return true;
        return false;
    }

    private static string? ShareGptRole(string from) => from.ToLowerInvariant() switch
    {
        "system" => Roles.System,
        "human" or "user" => Roles.User,
        "gpt" or "assistant" or "chatgpt" or "bing" or "bard" or "model" => Roles.Assistant,
        _ => null,
    };
}
