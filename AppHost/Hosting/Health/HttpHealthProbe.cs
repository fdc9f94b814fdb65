// Our own AppHost engine, following .NET Aspire's conventions: an instance is healthy when GET <endpoint><path>
// answers 2xx (projects: the ServiceDefaults /health endpoint, which runs every registered health check).

namespace FineTune.AppHost.Hosting;

public sealed class HttpHealthProbe(string endpointName, string path) : IHealthProbe
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public string Description => $"GET {path}";

    public async Task<HealthProbeResult> ProbeAsync(HealthProbeContext context, CancellationToken cancellationToken)
    {
        var url = context.Endpoint(endpointName).Url.TrimEnd('/') + path;
        try
        {
            using var response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            return response.IsSuccessStatusCode
                ? HealthProbeResult.Ok
                : HealthProbeResult.Fail($"GET {url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
        catch (HttpRequestException ex)
        {
            return HealthProbeResult.Fail($"GET {url}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Fail($"GET {url}: no answer within {Http.Timeout.TotalSeconds:0}s");
        }
    }
}
