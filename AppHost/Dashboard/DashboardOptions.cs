namespace FineTune.AppHost.Dashboard;

/// <summary>
/// Settings of the embedded dashboard (configuration section "Dashboard"). Defaults follow Aspire's dashboard:
/// UI on 18888, OTLP/gRPC on 18889, OTLP/HTTP on 18890, loopback only, a browser token and an OTLP API key
/// generated at start unless configured, and Aspire's telemetry limits.
/// </summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>Port of the pages and their API. 0 picks a free port.</summary>
    public int UiPort { get; set; } = 18888;

    /// <summary>Port of the OTLP/gRPC receiver (HTTP/2 without TLS). 0 picks a free port.</summary>
    public int OtlpGrpcPort { get; set; } = 18889;

    /// <summary>Port of the OTLP/HTTP receiver (POST /v1/traces|metrics|logs, application/x-protobuf). 0 picks a free port.</summary>
    public int OtlpHttpPort { get; set; } = 18890;

    /// <summary>
    /// Where the three ports listen: "localhost" (default: 127.0.0.1 and ::1 only), an IP address, or "*" for every interface.
    /// Anything other than loopback exposes the dashboard to the network: keep the token secret.
    /// </summary>
    public string BindAddress { get; set; } = "localhost";

    /// <summary>BrowserToken (default) or Unsecured (no login at all; only for throwaway local use).</summary>
    public DashboardAuthMode AuthMode { get; set; } = DashboardAuthMode.BrowserToken;

    /// <summary>The token of /login?t=…; generated at start when empty.</summary>
    public string? BrowserToken { get; set; }

    /// <summary>ApiKey (default: x-otlp-api-key must match) or Unsecured.</summary>
    public OtlpAuthMode OtlpAuthMode { get; set; } = OtlpAuthMode.ApiKey;

    /// <summary>The x-otlp-api-key value senders must present; generated at start when empty.</summary>
    public string? OtlpApiKey { get; set; }

    /// <summary>
    /// StackExchange.Redis connection string for the Jobs pages. When empty, the AppHost's resource named
    /// <see cref="RedisResourceName"/> is used (its connection string as the runner injects it into services).
    /// </summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>The app-model resource whose connection string the Jobs pages use when none is configured.</summary>
    public string RedisResourceName { get; set; } = "redis";

    /// <summary>Structured log records kept per resource (service name); the oldest go first.</summary>
    public int MaxLogCount { get; set; } = 10_000;

    /// <summary>Traces kept in all; the trace that started first goes first.</summary>
    public int MaxTraceCount { get; set; } = 10_000;

    /// <summary>Data points kept per metric series (one instrument, one attribute set, one instance).</summary>
    public int MaxMetricsCount { get; set; } = 50_000;

    /// <summary>Attributes kept per span, event, log record or data point; the rest are counted as dropped.</summary>
    public int MaxAttributeCount { get; set; } = 128;

    /// <summary>Largest OTLP/HTTP request body accepted, in bytes.</summary>
    public long MaxOtlpRequestBytes { get; set; } = 16 * 1024 * 1024;
}

public enum DashboardAuthMode
{
    BrowserToken,
    Unsecured,
}

public enum OtlpAuthMode
{
    ApiKey,
    Unsecured,
}
