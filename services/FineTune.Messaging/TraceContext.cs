using System.Diagnostics;
using StackExchange.Redis;

namespace FineTune.Messaging;

/// <summary>
/// W3C trace context in stream fields: <c>traceparent</c> (and <c>tracestate</c> when present), injected and extracted with
/// System.Diagnostics' <see cref="DistributedContextPropagator"/>, so a consumer's span continues the producer's trace.
/// </summary>
public static class TraceContext
{
    /// <summary>Adds the trace-context fields of <paramref name="activity"/> (default: the current one) to <paramref name="fields"/>.</summary>
    public static void Inject(ICollection<NameValueEntry> fields, Activity? activity = null)
    {
        activity ??= Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C) return;
        DistributedContextPropagator.Current.Inject(activity, fields, static (carrier, name, value) =>
        {
            if (carrier is ICollection<NameValueEntry> list && value is not null
                && (name == StreamNames.TraceParentField || name == StreamNames.TraceStateField))
                list.Add(new NameValueEntry(name, value));
        });
    }

    /// <summary>The parent context carried by a message, or default when it has none (or an invalid one).</summary>
    public static ActivityContext Extract(IReadOnlyDictionary<string, string> fields)
    {
        DistributedContextPropagator.Current.ExtractTraceIdAndState(fields, static (carrier, name, out value, out values) =>
        {
            values = null;
            value = carrier is IReadOnlyDictionary<string, string> d && d.TryGetValue(name, out var v) ? v : null;
        }, out var traceParent, out var traceState);
        return traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context)
            ? context
            : default;
    }
}
