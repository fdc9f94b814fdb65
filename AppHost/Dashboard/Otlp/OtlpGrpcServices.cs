using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Logs;
using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Metrics;
using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Trace;
using FineTune.AppHost.Dashboard.Telemetry;
using Grpc.Core;

namespace FineTune.AppHost.Dashboard.Otlp;

// The three OTLP/gRPC collector services (opentelemetry.proto.collector.{trace,metrics,logs}.v1), written for the dashboard:
// each stores what it receives and answers with an empty partial_success (everything accepted).
// The API key is checked by OtlpApiKeyInterceptor before these run.

public sealed class OtlpTraceService(TelemetryStore store) : TraceService.TraceServiceBase
{
    public override Task<ExportTraceServiceResponse> Export(ExportTraceServiceRequest request, ServerCallContext context)
    {
        store.AddSpans(request.ResourceSpans);
        return Task.FromResult(new ExportTraceServiceResponse());
    }
}

public sealed class OtlpLogsService(TelemetryStore store) : LogsService.LogsServiceBase
{
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context)
    {
        store.AddLogs(request.ResourceLogs);
        return Task.FromResult(new ExportLogsServiceResponse());
    }
}

public sealed class OtlpMetricsService(TelemetryStore store) : MetricsService.MetricsServiceBase
{
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context)
    {
        store.AddMetrics(request.ResourceMetrics);
        return Task.FromResult(new ExportMetricsServiceResponse());
    }
}
