using FineTune.AppHost.Dashboard;
using FineTune.AppHost.Dashboard.Otlp.Proto.Common;
using FineTune.AppHost.Dashboard.Otlp.Proto.Logs;
using FineTune.AppHost.Dashboard.Otlp.Proto.Trace;
using FineTune.AppHost.Dashboard.Telemetry;
using Google.Protobuf;
using OtlpResource = FineTune.AppHost.Dashboard.Otlp.Proto.Resource.Resource;

namespace FineTune.Dashboard.Tests;

public sealed class TelemetryRetentionTests
{
    private static OtlpResource Service(string name) =>
        new() { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = name } } } };

    private static ResourceLogs Logs(string service, params string[] messages) => new()
    {
        Resource = Service(service),
        ScopeLogs = { new ScopeLogs { LogRecords = { messages.Select(m => new LogRecord { Body = new AnyValue { StringValue = m }, SeverityNumber = SeverityNumber.Info, TimeUnixNano = 1 }) } } },
    };

    private static ResourceSpans Span(string service, byte traceByte) => new()
    {
        Resource = Service(service),
        ScopeSpans = { new ScopeSpans { Spans = { new Span {
            TraceId = ByteString.CopyFrom(Enumerable.Repeat(traceByte, 16).ToArray()), SpanId = ByteString.CopyFrom(Enumerable.Repeat(traceByte, 8).ToArray()),
            Name = $"span {traceByte}", StartTimeUnixNano = 1_000, EndTimeUnixNano = 2_000,
            Attributes = { Enumerable.Range(0, 10).Select(i => new KeyValue { Key = $"a{i}", Value = new AnyValue { IntValue = i } }) } } } } },
    };

    [Fact]
    public void LogsAreBoundedPerResourceOldestFirstOut()
    {
        var store = new TelemetryStore(new DashboardOptions { MaxLogCount = 3 });
        store.AddLogs([Logs("trainer", "1", "2", "3", "4", "5"), Logs("dataset", "d1")]);
        Assert.Equal(["3", "4", "5"], store.GetLogs("trainer").Select(l => l.Message));
        Assert.Equal(["d1"], store.GetLogs("dataset").Select(l => l.Message)); // another resource keeps its own
    }

    [Fact]
    public void TracesAreBoundedAndAttributesCapped()
    {
        var store = new TelemetryStore(new DashboardOptions { MaxTraceCount = 2, MaxAttributeCount = 4 });
        store.AddSpans([Span("a", 1), Span("a", 2), Span("a", 3)]);
        Assert.Null(store.GetTrace(Convert.ToHexStringLower(Enumerable.Repeat((byte)1, 16).ToArray())));
        var kept = store.GetTrace(Convert.ToHexStringLower(Enumerable.Repeat((byte)3, 16).ToArray()));
        Assert.NotNull(kept);
        Assert.Equal(4, Assert.Single(kept).Attributes.Count);
        Assert.Equal(2, store.GetTraces().Count);
    }

    [Fact]
    public void ResentSpanReplacesItsEarlierCopy()
    {
        var store = new TelemetryStore(new DashboardOptions());
        var first = Span("a", 7);
        var again = first.Clone();
        again.ScopeSpans[0].Spans[0].Name = "renamed";
        store.AddSpans([first]);
        store.AddSpans([again]);
        var span = Assert.Single(store.GetTrace(Convert.ToHexStringLower(Enumerable.Repeat((byte)7, 16).ToArray()))!);
        Assert.Equal("renamed", span.Name);
    }

    [Fact]
    public void ChangedIsRaisedPerKind()
    {
        var store = new TelemetryStore(new DashboardOptions());
        var kinds = new List<TelemetryKind>();
        store.Changed += kinds.Add;
        store.AddLogs([Logs("x", "m")]);
        store.AddSpans([Span("x", 9)]);
        store.AddLogs([]);
        Assert.Equal([TelemetryKind.Logs, TelemetryKind.Traces], kinds);
    }
}
