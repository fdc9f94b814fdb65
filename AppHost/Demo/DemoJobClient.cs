using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace FineTune.AppHost.Demo;

/// <summary>
/// The AppHost as the front door's first client: once every resource is healthy, and only when the job store is empty,
/// submits the embedded default job (<c>POST /api/jobs/demo</c>, with <see cref="DemoJobOptions"/>' overrides), follows its
/// stages and metrics over the job's Server-Sent Events (reconnecting with Last-Event-ID if the service restarts), then
/// prints the before/after table, the accuracy before → after and the artifact paths (<see cref="DemoJobReport"/>).
/// Lives in the AppHost because it needs the running system (resources healthy, the front door's allocated address) and the
/// console the user is looking at; it uses nothing but the public Jobs API, as `ft submit` would.
/// </summary>
internal sealed class DemoJobClient(DemoJobOptions options, DemoJobTarget target, DemoConsole console,
    ResourceNotificationService notifications, DistributedApplicationModel model) : BackgroundService
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        if (!options.Enabled)
        {
            console.Line("demo: off (--no-demo or FineTune:Demo:Enabled=false); no job submitted");
            return;
        }
        foreach (var name in target.WaitFor)
            await notifications.WaitForResourceHealthyAsync(name, cancellationToken);
        var endpoint = target.FrontDoor.GetEndpoint("http").Url;
        console.Line($"demo: the front door (Jobs API) answers on {endpoint}");
        using var http = new HttpClient { BaseAddress = new Uri(endpoint), Timeout = Timeout.InfiniteTimeSpan };

        var existing = await GetJsonAsync(http, "/api/jobs?max=1", cancellationToken);
        if (existing.GetArrayLength() > 0)
        {
            console.Line($"demo: the job store has jobs already, so the default job is not submitted (it runs on an empty store; FT_ENDPOINT={endpoint} ft jobs)");
            return;
        }

        using var created = await SendAsync(http, HttpMethod.Post, "/api/jobs/demo", Request(options), cancellationToken);
        var createdBody = await created.Content.ReadAsStringAsync(cancellationToken);
        if (!created.IsSuccessStatusCode)
        {
            console.Line($"demo: POST /api/jobs/demo answered {(int)created.StatusCode}: {createdBody}");
            return;
        }
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString()!;
        var page = StudioJobPage(id) is { } url ? $" · studio: {url}" : "";
        console.Line($"demo: submitted the default job {id}: seed-003 HTML → JSON extraction, {options.Preset} model, "
            + $"{(options.Parallelism > 1 ? $"{options.Parallelism} trainer replicas" : "one trainer replica")}{page}");

        var notes = await FollowAsync(http, id, console, cancellationToken);
        var job = await GetJsonAsync(http, $"/api/jobs/{id}", cancellationToken);
        DemoJobReport.Write(console, job, notes, options.ConsoleRows);
    }

    /// <summary>The studio's page of the job, when the app model has a "studio" resource with an http endpoint.</summary>
    private string? StudioJobPage(string id) =>
        model.Resources.OfType<IResourceWithEndpoints>().FirstOrDefault(r => r.Name == "studio") is { } studio
            && studio.Annotations.OfType<EndpointAnnotation>().Any(e => e.Name == "http")
            ? $"{studio.GetEndpoint("http").Url}/jobs/{id}" : null;

    /// <summary>The body of POST /api/jobs/demo: only what the options set, so DemoJob's recipe decides the rest.</summary>
    internal static JsonObject Request(DemoJobOptions options)
    {
        var training = new JsonObject();
        if (options.MaxSteps is { } steps) training["max_steps"] = steps;
        if (options.MicroBatchSize is { } batch) training["micro_batch_size"] = batch;
        if (options.GradientAccumulationSteps is { } accumulation) training["gradient_accumulation_steps"] = accumulation;
        if (options.Parallelism > 1) training["parallelism"] = options.Parallelism;
        var eval = new JsonObject();
        if (options.EvalExamples is { } examples) eval["max_examples"] = examples;
        if (options.MaxNewTokens is { } tokens) eval["max_new_tokens"] = tokens;
        var body = new JsonObject { ["preset"] = options.Preset, ["export"] = options.Export };
        if (training.Count > 0) body["training"] = training;
        if (eval.Count > 0) body["eval"] = eval;
        return body;
    }

    /// <summary>Prints stage events and (at most every 10 s) training progress until the job's 'end' event; returns the Ollama/export notes.</summary>
    private static async Task<List<string>> FollowAsync(HttpClient http, string id, DemoConsole console, CancellationToken cancellationToken)
    {
        var notes = new List<string>();
        string? lastEventId = null, lastStatus = null;
        var failures = 0;
        var lastProgress = DateTime.MinValue;
        while (true)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/events");
                if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
                string name = "message", data = "";
                while (await reader.ReadLineAsync(cancellationToken) is { } line)
                {
                    failures = 0;
                    if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                    else if (line.StartsWith("id: ", StringComparison.Ordinal)) lastEventId = line[4..];
                    else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
                    else if (line.Length == 0 && data.Length > 0)
                    {
                        if (name == "end") return notes;
                        var fields = JsonSerializer.Deserialize<Dictionary<string, string>>(data) ?? [];
                        if (name == "stage" && !(fields.GetValueOrDefault("kind") == "status" && fields.GetValueOrDefault("message") == lastStatus))
                        {
                            // (a status is written again when the next service takes the job: exporting by trainer, then exporter)
                            if (fields.GetValueOrDefault("kind") == "status") lastStatus = fields.GetValueOrDefault("message");
                            Stage(fields, console, notes);
                        }
                        else if (name == "metrics" && (fields.GetValueOrDefault("kind") == "eval" || DateTime.UtcNow - lastProgress >= ProgressEvery))
                        {
                            Progress(fields, console);
                            lastProgress = DateTime.UtcNow;
                        }
                        name = "message";
                        data = "";
                    }
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // The service restarted or the stream broke: a final job needs no more events; otherwise resume after a pause.
                try
                {
                    if ((await GetJsonAsync(http, $"/api/jobs/{id}", cancellationToken)).GetProperty("status").GetString() is "done" or "failed" or "cancelled")
                        return notes;
                }
                catch (Exception status) when (status is HttpRequestException or IOException or JsonException)
                {
                }
                failures++;
                if (failures == 1 || failures % 10 == 0) console.Line($"demo: lost the job's event stream ({ex.Message}); reconnecting");
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(2 * failures, 15)), cancellationToken);
            }
        }
    }

    private static void Stage(Dictionary<string, string> fields, DemoConsole console, List<string> notes)
    {
        var kind = fields.GetValueOrDefault("kind") ?? "";
        var message = fields.GetValueOrDefault("message") ?? "";
        if (kind is "ollama" or "export" && message.Length > 0) notes.Add($"{kind}: {message}");
        console.Line(kind == "status" ? $"demo: ▶ {message}" : $"demo:   {kind}: {message}");
    }

    private static void Progress(Dictionary<string, string> fields, DemoConsole console)
    {
        static string N(Dictionary<string, string> f, string key, string format) =>
            double.TryParse(f.GetValueOrDefault(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v.ToString(format, CultureInfo.InvariantCulture) : "–";
        var step = fields.GetValueOrDefault("step") ?? "?";
        if (fields.GetValueOrDefault("kind") == "eval")
        {
            var metrics = fields.Where(f => f.Key is not ("kind" or "step" or "epoch" or "eval_loss" or "eval_ppl"))
                .Select(f => $"{f.Key} {N(fields, f.Key, "0.###")}");
            console.Line($"demo:   eval at step {step}: held-out loss {N(fields, "eval_loss", "0.###")} {string.Join(" ", metrics)}");
            return;
        }
        var eta = double.TryParse(fields.GetValueOrDefault("eta_s"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s)
            ? TimeSpan.FromSeconds(s).ToString(@"m\:ss", CultureInfo.InvariantCulture) : "–";
        console.Line($"demo:   step {step} · loss {N(fields, "loss", "0.000")} · {N(fields, "tokens_per_s", "0")} tokens/s · eta {eta}");
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(http, HttpMethod.Get, path, null, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        return await http.SendAsync(request, timeout.Token);
    }
}

/// <summary>The AppHost console for the demo: whole lines, never interleaved with the runner's own lines (same lock).</summary>
public sealed class DemoConsole(TextWriter output)
{
    public IAnsiConsole Ansi { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });

    public void Line(string text)
    {
        lock (output) output.WriteLine(text);
    }

    public void Write(Spectre.Console.Rendering.IRenderable renderable)
    {
        lock (output) Ansi.Write(renderable);
    }
}
