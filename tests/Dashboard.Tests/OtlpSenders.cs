using FineTune.AppHost.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FineTune.Dashboard.Tests;

/// <summary>
/// The real OpenTelemetry .NET SDK and OTLP exporter, configured as a service under the AppHost would be, pointed at a
/// dashboard. Spans and logs export synchronously (simple processors); metrics on ForceFlush.
/// </summary>
public static class OtlpSenders
{
    public static Uri Endpoint(DashboardEndpoints endpoints, OtlpExportProtocol protocol, string signal) =>
        protocol == OtlpExportProtocol.Grpc ? new Uri(endpoints.OtlpGrpcUrl) : new Uri($"{endpoints.OtlpHttpUrl}/v1/{signal}");

    private static void Configure(OtlpExporterOptions o, DashboardEndpoints endpoints, OtlpExportProtocol protocol, string signal, string? apiKey)
    {
        o.Protocol = protocol;
        o.Endpoint = Endpoint(endpoints, protocol, signal);
        if (apiKey is not null) o.Headers = $"x-otlp-api-key={apiKey}";
    }

    private static ResourceBuilder Resource(string service, string instance) =>
        ResourceBuilder.CreateEmpty().AddService(service, serviceInstanceId: instance);

    public static TracerProvider Tracer(DashboardEndpoints endpoints, OtlpExportProtocol protocol, string service, string instance, string source, string? apiKey) =>
        Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(Resource(service, instance))
            .AddSource(source)
            .AddOtlpExporter(o =>
            {
                Configure(o, endpoints, protocol, "traces", apiKey);
                o.ExportProcessorType = ExportProcessorType.Simple;
            })
            .Build();

    public static MeterProvider Meter(DashboardEndpoints endpoints, OtlpExportProtocol protocol, string service, string instance, string meter, string? apiKey) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(Resource(service, instance))
            .AddMeter(meter)
            .AddOtlpExporter((o, reader) =>
            {
                Configure(o, endpoints, protocol, "metrics", apiKey);
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000; // only ForceFlush exports
            })
            .Build();

    public static ILoggerFactory Logger(DashboardEndpoints endpoints, OtlpExportProtocol protocol, string service, string instance, string? apiKey) =>
        LoggerFactory.Create(logging => logging.AddOpenTelemetry(o =>
        {
            o.SetResourceBuilder(Resource(service, instance));
            o.IncludeFormattedMessage = true;
            o.AddOtlpExporter((exporter, processor) =>
            {
                Configure(exporter, endpoints, protocol, "logs", apiKey);
                processor.ExportProcessorType = ExportProcessorType.Simple;
            });
        }));
}
