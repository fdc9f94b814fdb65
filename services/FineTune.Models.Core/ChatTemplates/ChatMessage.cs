namespace FineTune.Models.Core.ChatTemplates;

/// <summary>One turn of a conversation: role (system, user, assistant, tool…) and content; Extra carries fields such as tool_calls.</summary>
public sealed record ChatMessage(string Role, string? Content, IReadOnlyDictionary<string, object?>? Extra = null);
