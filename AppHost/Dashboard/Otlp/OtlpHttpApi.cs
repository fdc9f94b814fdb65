using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Logs;
using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Metrics;
using FineTune.AppHost.Dashboard.Otlp.Proto.Collector.Trace;
using FineTune.AppHost.Dashboard.Telemetry;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.Features;

namespace FineTune.AppHost.Dashboard.Otlp;

/// <summary>
/// OTLP/HTTP with binary protobuf bodies: POST /v1/traces, /v1/metrics, /v1/logs (the collector request messages),
/// answered with the protobuf response message. JSON-encoded OTLP is refused with 415 and a message saying so.
/// </summary>
public static class OtlpHttpApi
{
    private const string Protobuf = "application/x-protobuf";

    public static void MapOtlpHttpApi(this IEndpointRouteBuilder endpoints, int port)
    {
        var group = endpoints.MapGroup("/v1").RequireHost($"*:{port}").AllowAnonymous();
        group.MapPost("/traces", (HttpContext http, TelemetryStore store, OtlpApiKey key, DashboardOptions options) =>
            Receive(http, key, options, ExportTraceServiceRequest.Parser, r => store.AddSpans(r.ResourceSpans), new ExportTraceServiceResponse()));
        group.MapPost("/logs", (HttpContext http, TelemetryStore store, OtlpApiKey key, DashboardOptions options) =>
            Receive(http, key, options, ExportLogsServiceRequest.Parser, r => store.AddLogs(r.ResourceLogs), new ExportLogsServiceResponse()));
        group.MapPost("/metrics", (HttpContext http, TelemetryStore store, OtlpApiKey key, DashboardOptions options) =>
            Receive(http, key, options, ExportMetricsServiceRequest.Parser, r => store.AddMetrics(r.ResourceMetrics), new ExportMetricsServiceResponse()));
    }

    private static async Task<IResult> Receive<TRequest>(HttpContext http, OtlpApiKey key, DashboardOptions options,
        MessageParser<TRequest> parser, Action<TRequest> store, IMessage response) where TRequest : IMessage<TRequest>
    {
        if (!key.IsAuthorized(http.Request.Headers[OtlpApiKey.HeaderName]))
            return TypedResults.Problem($"Missing or wrong {OtlpApiKey.HeaderName} header.", statusCode: StatusCodes.Status401Unauthorized);
        var contentType = http.Request.ContentType ?? "";
        if (!contentType.StartsWith(Protobuf, StringComparison.OrdinalIgnoreCase))
            return TypedResults.Problem($"Content-Type '{contentType}' is not supported: send OTLP as {Protobuf} (OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf or grpc).",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = options.MaxOtlpRequestBytes;

        using var body = new MemoryStream();
        try
        {
            await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TypedResults.Problem($"OTLP request body larger than {options.MaxOtlpRequestBytes} bytes.", statusCode: StatusCodes.Status413PayloadTooLarge);
        }
        TRequest request;
        try
        {
            request = parser.ParseFrom(body.GetBuffer().AsSpan(0, (int)body.Length));
        }
        catch (InvalidProtocolBufferException ex)
        {
            return TypedResults.Problem($"The body is not a valid {typeof(TRequest).Name}: {ex.Message}", statusCode: StatusCodes.Status400BadRequest);
        }
        store(request);
        return TypedResults.Bytes(response.ToByteArray(), Protobuf);
    }
}
