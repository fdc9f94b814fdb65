namespace FineTune.Data.Import;

/// <summary>Checks every format shares once a record is a <see cref="Conversation"/>: roles, order, empty content, prompt-only.</summary>
public static class RecordRules
{
    /// <summary>An assistant answer shorter than this (after trimming) is reported as a warning.</summary>
    public const int ShortAnswerChars = 3;

    /// <summary>Adds errors and warnings for <paramref name="conversation"/>; returns false when it has an error.</summary>
    public static bool Check(Conversation conversation, long? line, long record, string messagesField, List<DataIssue> issues)
    {
        var ok = true;
        var sawAssistant = false;
        for (var i = 0; i < conversation.Messages.Count; i++)
        {
            var turn = conversation.Messages[i];
            var field = $"{messagesField}[{i}]";
            if (turn.Role == Roles.System && i != 0)
            {
                issues.Add(DataIssue.Error(line, record, field, "a system message may only be the first message"));
                ok = false;
            }
            if (string.IsNullOrWhiteSpace(turn.Content) && turn.Role != Roles.System)
            {
                issues.Add(DataIssue.Error(line, record, field, $"empty content in a {turn.Role} message"));
                ok = false;
            }
            if (turn.Role == Roles.Assistant)
            {
                sawAssistant = true;
                var trimmed = turn.Content.Trim().Length;
                if (trimmed is > 0 and < ShortAnswerChars)
                    issues.Add(DataIssue.Warning(line, record, field, $"very short answer ({trimmed} characters)"));
            }
        }
        if (!sawAssistant)
        {
            issues.Add(DataIssue.Error(line, record, messagesField, "prompt-only record: there is no assistant answer to learn from"));
            ok = false;
        }
        else if (conversation.Messages[^1].Role != Roles.Assistant)
        {
            issues.Add(DataIssue.Warning(line, record, $"{messagesField}[{conversation.Messages.Count - 1}]",
                "the conversation ends with a non-assistant turn, which will not be trained"));
        }
        if (!conversation.Messages.Any(m => m.Role == Roles.User))
        {
            issues.Add(DataIssue.Error(line, record, messagesField, "no user message"));
            ok = false;
        }
        return ok;
    }
}
