using System.Diagnostics;
using StackExchange.Redis;

namespace FineTune.Messaging;

/// <summary>Publishing to a stream: XADD with the current trace context and approximate MAXLEN trimming.</summary>
public static class StreamPublisher
{
    /// <summary>Default approximate cap of a stream's length (<c>MAXLEN ~</c>).</summary>
    public const int DefaultMaxLength = 10_000;

    /// <summary>Appends a message carrying the trace context of <paramref name="activity"/> (default: current); returns its id.</summary>
    public static async Task<string> PublishAsync(this IDatabaseAsync db, string stream, IEnumerable<KeyValuePair<string, string>> fields,
        int? maxLength = DefaultMaxLength, Activity? activity = null)
    {
        var entries = fields.Select(f => new NameValueEntry(f.Key, f.Value)).ToList();
        TraceContext.Inject(entries, activity);
        var id = await db.StreamAddAsync(stream, [.. entries], maxLength: maxLength, useApproximateMaxLength: true);
        return id.ToString();
    }
}
