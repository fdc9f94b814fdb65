namespace FineTune.Data.Import;

/// <summary>One record read from an upload: its canonical form, or null when it has errors; issues found on the way.</summary>
public readonly record struct ImportItem(long Record, long Line, Conversation? Conversation, IReadOnlyList<DataIssue>? Issues);
