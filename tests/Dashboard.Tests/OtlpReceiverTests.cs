using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace FineTune.Dashboard.Tests;

public sealed class OtlpReceiverTests
{
    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task RealOtlpExporterDeliversSpansLogsAndMetrics(OtlpExportProtocol protocol)
    {
        await using var host = await DashboardHost.StartAsync();
        var key = host.Endpoints.OtlpApiKey;
        Assert.NotNull(key);
        var sourceName = $"FineTune.Test.{protocol}";

        using (var tracer = OtlpSenders.Tracer(host.Endpoints, protocol, "dataset", "dataset-1", sourceName, key))
        using (var source = new ActivitySource(sourceName))
        using (var loggers = OtlpSenders.Logger(host.Endpoints, protocol, "dataset", "dataset-1", key))
        {
            using var activity = source.StartActivity("upload dataset", ActivityKind.Server)!;
            activity.SetTag("dataset.rows", 1200);
            activity.AddEvent(new ActivityEvent("validated"));
            loggers.CreateLogger("Dataset.Upload").LogWarning("Dropped {Rows} malformed rows", 3);
            activity.Stop();
            var traceId = activity.TraceId.ToHexString();

            var span = Assert.Single(host.Dashboard.Telemetry.GetTrace(traceId)!);
            Assert.Equal("upload dataset", span.Name);
            Assert.Equal("dataset", span.Service);
            Assert.Equal("dataset-1", span.Instance);
            Assert.Equal("Server", span.Kind);
            Assert.Contains(span.Attributes, a => a.Key == "dataset.rows" && a.Value == "1200");
            Assert.Equal("validated", Assert.Single(span.Events).Name);

            var log = Assert.Single(host.Dashboard.Telemetry.GetLogs("dataset"));
            Assert.Equal("Dropped 3 malformed rows", log.Message);
            Assert.Equal("Warning", log.Level);
            Assert.Equal("Dataset.Upload", log.Category);
            Assert.Equal(traceId, log.TraceId);
        }

        using var meter = new Meter(sourceName);
        using (var meters = OtlpSenders.Meter(host.Endpoints, protocol, "trainer", "trainer-a", sourceName, key))
        {
            var tokens = meter.CreateCounter<long>("ft.tokens", "{token}");
            var stepTime = meter.CreateHistogram<double>("ft.step.duration", "ms");
            tokens.Add(512, new KeyValuePair<string, object?>("job", "j1"));
            tokens.Add(256, new KeyValuePair<string, object?>("job", "j1"));
            for (var i = 1; i <= 100; i++) stepTime.Record(i);
            Assert.True(meters.ForceFlush(10_000));
        }

        var instruments = host.Dashboard.Telemetry.GetInstruments("trainer");
        Assert.Contains(instruments, i => i.Name == "ft.tokens" && i.Kind == "counter" && i.Unit == "{token}");
        var counter = host.Dashboard.Telemetry.GetMetric("trainer", sourceName, "ft.tokens")!.Value;
        var series = Assert.Single(counter.Series);
        Assert.Equal("trainer-a", series.Instance);
        Assert.Equal(768, series.Points[^1].Value);
        var histogram = host.Dashboard.Telemetry.GetMetric("trainer", sourceName, "ft.step.duration")!.Value;
        var p = Assert.Single(histogram.Series).Points[^1]; // cumulative: the flush, and again at dispose
        Assert.Equal(100UL, p.Count);
        Assert.InRange(p.Value, 40, 60); // p50 of 1..100, interpolated within the default buckets (25, 50]
        Assert.InRange(p.P99!.Value, 75, 100);
    }

    [Theory]
    [InlineData(OtlpExportProtocol.Grpc)]
    [InlineData(OtlpExportProtocol.HttpProtobuf)]
    public async Task ExporterWithWrongApiKeyIsRefused(OtlpExportProtocol protocol)
    {
        await using var host = await DashboardHost.StartAsync();
        var sourceName = $"FineTune.Test.Refused.{protocol}";
        using (var tracer = OtlpSenders.Tracer(host.Endpoints, protocol, "dataset", "dataset-1", sourceName, "not-the-key"))
        using (var source = new ActivitySource(sourceName))
        {
            source.StartActivity("refused")!.Stop(); // the simple processor exports before Stop returns
        }
        Assert.Empty(host.Dashboard.Telemetry.GetTraces());
        Assert.Empty(host.Dashboard.Telemetry.Services());
    }

    [Fact]
    public async Task UnsecuredOtlpAcceptsSendersWithoutKey()
    {
        await using var host = await DashboardHost.StartAsync(configure: o => o.OtlpAuthMode = FineTune.AppHost.Dashboard.OtlpAuthMode.Unsecured);
        Assert.Null(host.Endpoints.OtlpApiKey);
        using (var tracer = OtlpSenders.Tracer(host.Endpoints, OtlpExportProtocol.Grpc, "export", "export-1", "FineTune.Test.Open", null))
        using (var source = new ActivitySource("FineTune.Test.Open"))
            source.StartActivity("merge")!.Stop();
        Assert.Equal("export", Assert.Single(host.Dashboard.Telemetry.GetTraces()).RootService);
    }

    [Fact]
    public async Task OtlpHttpExplainsWhatItRefuses()
    {
        await using var host = await DashboardHost.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(host.Endpoints.OtlpHttpUrl) };

        var noKey = await http.PostAsync("/v1/traces", Protobuf([]));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Contains("x-otlp-api-key", await noKey.Content.ReadAsStringAsync());

        http.DefaultRequestHeaders.Add("x-otlp-api-key", host.Endpoints.OtlpApiKey);
        var json = await http.PostAsync("/v1/logs", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Contains("application/x-protobuf", await json.Content.ReadAsStringAsync());

        var garbage = await http.PostAsync("/v1/metrics", Protobuf([0x0a, 0xff, 0xff, 0xff]));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains("ExportMetricsServiceRequest", await garbage.Content.ReadAsStringAsync());

        var empty = await http.PostAsync("/v1/traces", Protobuf([]));
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        Assert.Equal("application/x-protobuf", empty.Content.Headers.ContentType?.MediaType);

        // The pages are not served on the OTLP port, even to a sender holding the API key.
        var pages = await http.GetAsync("/api/resources");
        Assert.Contains(pages.StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.Unauthorized });
    }

    private static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }
}
