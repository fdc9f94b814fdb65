using System.CommandLine;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace FineTune.Cli;

/// <summary>
/// HTTP client of the Jobs API (Dataset.Api, /api/jobs) for the job verbs. The endpoint comes from <c>--endpoint</c>, else
/// env <c>FT_ENDPOINT</c>, else <c>services__dataset__http__0</c> (what the AppHost gives its resources), else
/// http://localhost:5080. A problem+json answer becomes a <see cref="CliException"/> listing its field errors.
/// </summary>
public sealed class JobsClient : IDisposable
{
    public const string DefaultEndpoint = "http://localhost:5080";
    private readonly HttpClient _http;

    public JobsClient(string? endpoint)
    {
        Endpoint = Resolve(endpoint);
        _http = new HttpClient { BaseAddress = new Uri(Endpoint), Timeout = Timeout.InfiniteTimeSpan };
    }

    public string Endpoint { get; }

    public static Option<string?> EndpointOption() => new("--endpoint")
    {
        Description = "Jobs API base address (default: $FT_ENDPOINT, else $services__dataset__http__0, else " + DefaultEndpoint + ")",
    };

    public static string Resolve(string? endpoint)
    {
        var value = new[] { endpoint, Environment.GetEnvironmentVariable("FT_ENDPOINT"), Environment.GetEnvironmentVariable("services__dataset__http__0") }
            .FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)) ?? DefaultEndpoint;
        if (!Uri.TryCreate(value.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new CliException($"endpoint '{value}' is not an http(s) address");
        return uri.ToString();
    }

    public async Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent? content = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        using var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    /// <summary>Server-Sent Events of GET /api/jobs/{id}/events: (event name, data JSON) until the server closes the stream.</summary>
    public async IAsyncEnumerable<(string Name, JsonElement Data)> EventsAsync(string jobId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(jobId)}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await SendCheckedAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        string name = "message", data = "";
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return (name, JsonDocument.Parse(data).RootElement.Clone());
                (name, data) = ("message", "");
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
        }
    }

    private async Task<HttpResponseMessage> SendCheckedAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the Jobs API at {Endpoint}: {ex.Message} (set --endpoint or FT_ENDPOINT)");
        }
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new CliException($"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {Describe(text, response.ReasonPhrase)}");
        }
    }

    /// <summary>"title: detail" of a problem+json body, with each field error on its own line.</summary>
    private static string Describe(string body, string? reason)
    {
        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            var text = problem.TryGetProperty("title", out var title) ? title.GetString() : reason;
            if (problem.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                return text + string.Concat(errors.EnumerateObject().Select(e => $"\n  {e.Name}: {string.Join("; ", e.Value.EnumerateArray().Select(v => v.GetString()))}"));
            if (errors.ValueKind == JsonValueKind.Array)   // a rejected dataset: its issues, each with its line
                return $"{text}: {Detail(problem)}" + string.Concat(errors.EnumerateArray().Select(e => $"\n  {Issue(e)}"));
            return problem.TryGetProperty("detail", out var detail) ? $"{text}: {detail.GetString()}" : text ?? "";
        }
        catch (JsonException)
        {
            return reason ?? "";
        }
    }

    private static string? Detail(JsonElement problem) => problem.TryGetProperty("detail", out var d) ? d.GetString() : null;

    /// <summary>"line 2, record 2, field 'x': message" of one issue of a rejected dataset.</summary>
    private static string Issue(JsonElement issue)
    {
        string? Part(string name, string label) =>
            issue.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.Number or JsonValueKind.String ? $"{label} {v}" : null;
        var where = string.Join(", ", new[] { Part("line", "line"), Part("record", "record"), Part("field", "field") }.Where(p => p is not null));
        var message = issue.TryGetProperty("message", out var m) ? m.GetString() : "";
        return where.Length == 0 ? message ?? "" : $"{where}: {message}";
    }

    public void Dispose() => _http.Dispose();
}
