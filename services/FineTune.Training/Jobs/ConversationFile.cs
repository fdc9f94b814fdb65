using FineTune.Data;
using FineTune.Data.Import;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Training.Preprocessing;

namespace FineTune.Training.Jobs;

/// <summary>
/// Reads a data file in any format FineTune.Data imports (seed formats, chat JSONL, text blocks, CSV) as chat messages, as
/// the records are (the system prompt is added by <see cref="ExamplePreprocessor"/>, the one preprocessing step).
/// </summary>
public static class ConversationFile
{
    public static async Task<List<IReadOnlyList<ChatMessage>>> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"data file not found: {path}", path);
        var conversations = new List<IReadOnlyList<ChatMessage>>();
        var errors = new List<DataIssue>();
        await using var stream = File.OpenRead(path);
        var reader = new DatasetReader();
        await foreach (var item in reader.ReadAsync(stream, cancellationToken))
        {
            if (item.Issues is { } issues) errors.AddRange(issues.Where(i => i.Severity == IssueSeverity.Error));
            if (item.Conversation is { } c && (item.Issues is null || item.Issues.All(i => i.Severity != IssueSeverity.Error)))
                conversations.Add(ExamplePreprocessor.ToChat(c));
        }
        if (errors.Count > 0)
            throw new InvalidDataException($"{path}: {errors.Count} invalid record(s): " + string.Join("; ", errors.Take(5)) + (errors.Count > 5 ? "; …" : ""));
        if (conversations.Count == 0) throw new InvalidDataException($"{path}: no records");
        return conversations;
    }
}
