namespace FineTune.AppHost.Dashboard.Telemetry;

// What the dashboard keeps of received OTLP telemetry: flat, immutable records the pages' API serialises as JSON.
// Ids are lowercase hex (as in W3C traceparent); times are UTC.

/// <summary>One attribute, its value rendered as text (arrays and maps as JSON-like text).</summary>
public sealed record Attr(string Key, string Value);

/// <summary>A log record. Service is service.name; Instance is service.instance.id.</summary>
public sealed record LogEntry(
    long Id,
    DateTimeOffset Timestamp,
    string Service,
    string Instance,
    string Level,
    int SeverityNumber,
    string Message,
    string Category,
    string? TraceId,
    string? SpanId,
    IReadOnlyList<Attr> Attributes);

public sealed record SpanEvent(DateTimeOffset Timestamp, string Name, IReadOnlyList<Attr> Attributes);

public sealed record SpanEntry(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    string Kind,
    string Service,
    string Instance,
    string Scope,
    DateTimeOffset Start,
    DateTimeOffset End,
    string Status,
    string? StatusMessage,
    IReadOnlyList<Attr> Attributes,
    IReadOnlyList<SpanEvent> Events)
{
    public double DurationMs => (End - Start).TotalMilliseconds;
}

/// <summary>One row of the traces list: the trace's root (or earliest) span, its services and its extent.</summary>
public sealed record TraceSummary(
    string TraceId,
    string Name,
    string RootService,
    DateTimeOffset Start,
    double DurationMs,
    int SpanCount,
    int ErrorCount,
    IReadOnlyList<string> Services);

/// <summary>An instrument as the metrics picker lists it.</summary>
public sealed record InstrumentInfo(string Service, string Meter, string Name, string Description, string Unit, string Kind);

/// <summary>
/// One data point. Value is what the chart draws: the gauge or sum value, or for a histogram its p50, with P90/P99 beside.
/// </summary>
public sealed record MetricPoint(DateTimeOffset Timestamp, double Value, double? P90 = null, double? P99 = null, ulong? Count = null);

/// <summary>The points of one attribute set of an instrument, from one instance.</summary>
public sealed record MetricSeries(string Instance, IReadOnlyList<Attr> Attributes, IReadOnlyList<MetricPoint> Points);

public enum TelemetryKind
{
    Logs,
    Traces,
    Metrics,
}
