using System.Diagnostics;
using StackExchange.Redis;

namespace FineTune.Messaging;

/// <summary>One message read from a stream: its id, its fields (string values), the trace context it carries, and which delivery attempt this is.</summary>
public sealed class StreamMessage
{
    public required string Stream { get; init; }
    public required string Id { get; init; }
    public required IReadOnlyDictionary<string, string> Fields { get; init; }
    /// <summary>1 for the first delivery to a handler; counts across consumers and restarts.</summary>
    public int Attempt { get; init; }
    public ActivityContext ParentContext => TraceContext.Extract(Fields);

    public string? Get(string field) => Fields.TryGetValue(field, out var value) ? value : null;

    /// <summary>A field's value, or an <see cref="InvalidMessageException"/> naming the stream, message and field.</summary>
    public string Required(string field) =>
        Fields.TryGetValue(field, out var value) && !string.IsNullOrEmpty(value)
            ? value
            : throw new InvalidMessageException($"{Stream} message {Id}: required field '{field}' is missing or empty");

    public static StreamMessage From(string stream, StreamEntry entry, int attempt)
    {
        var fields = new Dictionary<string, string>(entry.Values.Length, StringComparer.Ordinal);
        foreach (var v in entry.Values) fields[v.Name.ToString()] = v.Value.ToString();
        return new StreamMessage { Stream = stream, Id = entry.Id.ToString(), Fields = fields, Attempt = attempt };
    }
}

/// <summary>A message that can never succeed (missing or malformed fields): it goes to the dead-letter stream at once.</summary>
public sealed class InvalidMessageException(string message) : Exception(message);
