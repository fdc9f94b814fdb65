using FineTune.AppHost.Dashboard.Otlp.Proto.Logs;
using FineTune.AppHost.Dashboard.Otlp.Proto.Metrics;
using FineTune.AppHost.Dashboard.Otlp.Proto.Trace;

namespace FineTune.AppHost.Dashboard.Telemetry;

/// <summary>
/// The dashboard's in-memory telemetry: logs, traces and metrics received over OTLP, bounded by the limits of
/// <see cref="DashboardOptions"/> (oldest dropped first). Thread-safe; queries return copies.
/// </summary>
public sealed class TelemetryStore(DashboardOptions options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Queue<LogEntry>> _logsByService = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TraceSpans> _traces = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _traceOrder = new();
    private readonly Dictionary<string, LinkedListNode<string>> _traceNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Service, string Meter, string Name), Instrument> _instruments = new();
    private readonly SortedSet<string> _services = new(StringComparer.Ordinal);
    private long _nextLogId;

    /// <summary>Raised (outside the lock) after new telemetry of a kind was stored.</summary>
    public event Action<TelemetryKind>? Changed;

    public IReadOnlyList<string> Services()
    {
        lock (_gate) return [.. _services];
    }

    // ---- ingest ----

    public int AddLogs(IEnumerable<ResourceLogs> batch)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var rl in batch)
            {
                var (service, instance) = OtlpConvert.Identify(rl.Resource);
                _services.Add(service);
                if (!_logsByService.TryGetValue(service, out var queue))
                    _logsByService[service] = queue = new Queue<LogEntry>();
                foreach (var sl in rl.ScopeLogs)
                    foreach (var r in sl.LogRecords)
                    {
                        var attributes = OtlpConvert.Attributes(r.Attributes, options.MaxAttributeCount);
                        var category = sl.Scope?.Name ?? "";
                        var time = r.TimeUnixNano != 0 ? r.TimeUnixNano : r.ObservedTimeUnixNano;
                        queue.Enqueue(new LogEntry(++_nextLogId, OtlpConvert.Time(time), service, instance,
                            OtlpConvert.Level((int)r.SeverityNumber, r.SeverityText), (int)r.SeverityNumber,
                            OtlpConvert.Text(r.Body), category, OtlpConvert.HexId(r.TraceId), OtlpConvert.HexId(r.SpanId), attributes));
                        while (queue.Count > options.MaxLogCount) queue.Dequeue();
                        count++;
                    }
            }
        }
        if (count > 0) Changed?.Invoke(TelemetryKind.Logs);
        return count;
    }

    public int AddSpans(IEnumerable<ResourceSpans> batch)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var rs in batch)
            {
                var (service, instance) = OtlpConvert.Identify(rs.Resource);
                _services.Add(service);
                foreach (var ss in rs.ScopeSpans)
                    foreach (var s in ss.Spans)
                    {
                        var traceId = OtlpConvert.HexId(s.TraceId);
                        var spanId = OtlpConvert.HexId(s.SpanId);
                        if (traceId is null || spanId is null) continue; // a span without ids cannot be placed in a trace
                        var entry = new SpanEntry(traceId, spanId, OtlpConvert.HexId(s.ParentSpanId), s.Name, s.Kind.ToString(),
                            service, instance, ss.Scope?.Name ?? "", OtlpConvert.Time(s.StartTimeUnixNano), OtlpConvert.Time(s.EndTimeUnixNano),
                            s.Status?.Code.ToString() ?? "Unset", string.IsNullOrEmpty(s.Status?.Message) ? null : s.Status!.Message,
                            OtlpConvert.Attributes(s.Attributes, options.MaxAttributeCount),
                            [.. s.Events.Select(e => new SpanEvent(OtlpConvert.Time(e.TimeUnixNano), e.Name,
                                OtlpConvert.Attributes(e.Attributes, options.MaxAttributeCount)))]);
                        if (!_traces.TryGetValue(traceId, out var spans))
                        {
                            _traces[traceId] = spans = new TraceSpans();
                            _traceNodes[traceId] = _traceOrder.AddLast(traceId);
                            while (_traces.Count > options.MaxTraceCount && _traceOrder.First is { } oldest)
                            {
                                _traceOrder.RemoveFirst();
                                _traces.Remove(oldest.Value);
                                _traceNodes.Remove(oldest.Value);
                            }
                        }
                        spans.Put(entry);
                        count++;
                    }
            }
        }
        if (count > 0) Changed?.Invoke(TelemetryKind.Traces);
        return count;
    }

    public int AddMetrics(IEnumerable<ResourceMetrics> batch)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var rm in batch)
            {
                var (service, instance) = OtlpConvert.Identify(rm.Resource);
                _services.Add(service);
                foreach (var sm in rm.ScopeMetrics)
                    foreach (var m in sm.Metrics)
                    {
                        var meter = sm.Scope?.Name ?? "";
                        var key = (service, meter, m.Name);
                        if (!_instruments.TryGetValue(key, out var instrument))
                            _instruments[key] = instrument = new Instrument(new InstrumentInfo(service, meter, m.Name, m.Description, m.Unit, Kind(m)));
                        count += instrument.Add(instance, m, options);
                    }
            }
        }
        if (count > 0) Changed?.Invoke(TelemetryKind.Metrics);
        return count;
    }

    private static string Kind(Metric m) => m.DataCase switch
    {
        Metric.DataOneofCase.Gauge => "gauge",
        Metric.DataOneofCase.Sum => m.Sum.IsMonotonic ? "counter" : "updown-counter",
        Metric.DataOneofCase.Histogram => "histogram",
        Metric.DataOneofCase.ExponentialHistogram => "exponential-histogram",
        Metric.DataOneofCase.Summary => "summary",
        _ => "unknown",
    };

    // ---- queries ----

    /// <summary>Log records, oldest first, filtered; at most <paramref name="limit"/> (the newest ones).</summary>
    public IReadOnlyList<LogEntry> GetLogs(string? service = null, int minSeverity = 0, string? text = null, string? traceId = null, int limit = 500)
    {
        lock (_gate)
        {
            IEnumerable<LogEntry> all = service is null
                ? _logsByService.Values.SelectMany(q => q)
                : _logsByService.TryGetValue(service, out var q) ? q : [];
            var matches = all.Where(l =>
                    (minSeverity == 0 || l.SeverityNumber >= minSeverity)
                    && (string.IsNullOrEmpty(traceId) || string.Equals(l.TraceId, traceId, StringComparison.OrdinalIgnoreCase))
                    && (string.IsNullOrEmpty(text) || Matches(l, text)))
                .OrderBy(l => l.Timestamp).ThenBy(l => l.Id)
                .ToList();
            return matches.Count > limit ? matches[^limit..] : matches;
        }
    }

    private static bool Matches(LogEntry l, string text) =>
        l.Message.Contains(text, StringComparison.OrdinalIgnoreCase)
        || l.Category.Contains(text, StringComparison.OrdinalIgnoreCase)
        || l.Attributes.Any(a => a.Value.Contains(text, StringComparison.OrdinalIgnoreCase));

    /// <summary>Traces, newest first, that have a span of <paramref name="service"/> and whose span names or ids contain <paramref name="text"/>.</summary>
    public IReadOnlyList<TraceSummary> GetTraces(string? service = null, string? text = null, int limit = 200)
    {
        lock (_gate)
        {
            return _traces.Values
                .Select(t => t.Spans)
                .Where(spans => service is null || spans.Any(s => s.Service == service))
                .Where(spans => string.IsNullOrEmpty(text) || spans.Any(s =>
                    s.Name.Contains(text, StringComparison.OrdinalIgnoreCase) || s.TraceId.StartsWith(text, StringComparison.OrdinalIgnoreCase)))
                .Select(Summarize)
                .OrderByDescending(t => t.Start)
                .Take(limit)
                .ToList();
        }
    }

    private static TraceSummary Summarize(List<SpanEntry> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet();
        var root = spans.Where(s => s.ParentSpanId is null || !ids.Contains(s.ParentSpanId)).MinBy(s => s.Start) ?? spans[0];
        var start = spans.Min(s => s.Start);
        var end = spans.Max(s => s.End);
        return new TraceSummary(root.TraceId, root.Name, root.Service, start, (end - start).TotalMilliseconds, spans.Count,
            spans.Count(s => s.Status == "Error"), [.. spans.Select(s => s.Service).Distinct().Order(StringComparer.Ordinal)]);
    }

    /// <summary>The spans of one trace ordered by start time, or null when the trace is unknown (or evicted).</summary>
    public IReadOnlyList<SpanEntry>? GetTrace(string traceId)
    {
        lock (_gate)
            return _traces.TryGetValue(traceId.ToLowerInvariant(), out var trace) ? [.. trace.Spans.OrderBy(s => s.Start)] : null;
    }

    public IReadOnlyList<InstrumentInfo> GetInstruments(string? service = null)
    {
        lock (_gate)
            return [.. _instruments.Values.Select(i => i.Info).Where(i => service is null || i.Service == service)
                .OrderBy(i => i.Service, StringComparer.Ordinal).ThenBy(i => i.Meter, StringComparer.Ordinal).ThenBy(i => i.Name, StringComparer.Ordinal)];
    }

    /// <summary>The series of one instrument, or null when unknown.</summary>
    public (InstrumentInfo Info, IReadOnlyList<MetricSeries> Series)? GetMetric(string service, string meter, string name)
    {
        lock (_gate)
            return _instruments.TryGetValue((service, meter, name), out var i) ? (i.Info, i.Snapshot()) : null;
    }

    /// <summary>The spans of one trace in arrival order; a re-sent span (same id) replaces the earlier copy.</summary>
    private sealed class TraceSpans
    {
        private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

        public List<SpanEntry> Spans { get; } = [];

        public void Put(SpanEntry span)
        {
            if (_index.TryGetValue(span.SpanId, out var at))
                Spans[at] = span;
            else
            {
                _index[span.SpanId] = Spans.Count;
                Spans.Add(span);
            }
        }
    }

    /// <summary>The received points of one instrument: one series per (instance, attribute set), each a bounded queue.</summary>
    private sealed class Instrument(InstrumentInfo info)
    {
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);

        public InstrumentInfo Info { get; } = info;

        public int Add(string instance, Metric m, DashboardOptions options)
        {
            var count = 0;
            switch (m.DataCase)
            {
                case Metric.DataOneofCase.Gauge:
                    foreach (var p in m.Gauge.DataPoints) count += Add(instance, p.Attributes, Number(p), options);
                    break;
                case Metric.DataOneofCase.Sum:
                    foreach (var p in m.Sum.DataPoints) count += Add(instance, p.Attributes, Number(p), options);
                    break;
                case Metric.DataOneofCase.Histogram:
                    foreach (var p in m.Histogram.DataPoints)
                        count += Add(instance, p.Attributes, new MetricPoint(OtlpConvert.Time(p.TimeUnixNano),
                            Percentile(p, 0.50), Percentile(p, 0.90), Percentile(p, 0.99), p.Count), options);
                    break;
                case Metric.DataOneofCase.ExponentialHistogram:
                    foreach (var p in m.ExponentialHistogram.DataPoints)
                        count += Add(instance, p.Attributes, new MetricPoint(OtlpConvert.Time(p.TimeUnixNano),
                            p.Count == 0 ? 0 : p.Sum / p.Count, Count: p.Count), options);
                    break;
                case Metric.DataOneofCase.Summary:
                    foreach (var p in m.Summary.DataPoints)
                        count += Add(instance, p.Attributes, new MetricPoint(OtlpConvert.Time(p.TimeUnixNano),
                            p.Count == 0 ? 0 : p.Sum / p.Count, Count: p.Count), options);
                    break;
            }
            return count;
        }

        private static MetricPoint Number(NumberDataPoint p) => new(OtlpConvert.Time(p.TimeUnixNano),
            p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? p.AsInt : p.AsDouble);

        private int Add(string instance, Google.Protobuf.Collections.RepeatedField<Otlp.Proto.Common.KeyValue> attributes, MetricPoint point, DashboardOptions options)
        {
            var attrs = OtlpConvert.Attributes(attributes, options.MaxAttributeCount).OrderBy(a => a.Key, StringComparer.Ordinal).ToList();
            var key = instance + "\u0001" + string.Join("\u0001", attrs.Select(a => a.Key + "=" + a.Value));
            if (!_series.TryGetValue(key, out var series))
                _series[key] = series = new Series(instance, attrs);
            // A cumulative point re-sent at shutdown (same timestamp) replaces the earlier copy instead of doubling it.
            if (series.Points.Last?.Value.Timestamp == point.Timestamp) series.Points.RemoveLast();
            series.Points.AddLast(point);
            while (series.Points.Count > options.MaxMetricsCount) series.Points.RemoveFirst();
            return 1;
        }

        private sealed class Series(string instance, IReadOnlyList<Attr> attributes)
        {
            public string Instance { get; } = instance;
            public IReadOnlyList<Attr> Attributes { get; } = attributes;
            public LinkedList<MetricPoint> Points { get; } = new();
        }

        public IReadOnlyList<MetricSeries> Snapshot() =>
            [.. _series.Values.Select(s => new MetricSeries(s.Instance, s.Attributes, [.. s.Points]))];

        /// <summary>The q-quantile of an explicit-bucket histogram, interpolated linearly inside its bucket.</summary>
        private static double Percentile(HistogramDataPoint p, double q)
        {
            if (p.Count == 0 || p.BucketCounts.Count == 0) return 0;
            var rank = q * p.Count;
            ulong seen = 0;
            for (var i = 0; i < p.BucketCounts.Count; i++)
            {
                var inBucket = p.BucketCounts[i];
                if (inBucket > 0 && seen + inBucket >= rank)
                {
                    var lower = i == 0 ? (p.HasMin ? p.Min : Math.Min(0, p.ExplicitBounds.FirstOrDefault())) : p.ExplicitBounds[i - 1];
                    var upper = i < p.ExplicitBounds.Count ? p.ExplicitBounds[i] : (p.HasMax ? p.Max : lower);
                    return lower + (upper - lower) * ((rank - seen) / inBucket);
                }
                seen += inBucket;
            }
            return p.HasMax ? p.Max : p.ExplicitBounds.LastOrDefault();
        }
    }
}
