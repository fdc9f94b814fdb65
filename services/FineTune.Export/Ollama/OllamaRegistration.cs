// Registers an exported model in Ollama through OllamaSharp (shared/reference/gguf-ollama.md §6): blobs by sha256
// (HEAD first; POST streamed from disk with the same client's HttpClient, because OllamaSharp's PushBlobAsync takes a
// whole byte array), /api/create from files + template + parameters (or adapters), a check that the model is listed,
// then the job's evaluation prompts through /api/chat. Transient failures (connection errors, 5xx, 408/429, timeouts)
// are retried with exponential backoff by a Polly pipeline; anything else fails the registration with its reason.
// An unreachable server is not an error of the job: the step is Skipped and the Modelfile + command remain.
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using OllamaSharp;
using OllamaSharp.Models;
using OllamaSharp.Models.Chat;
using Polly;
using Polly.Retry;

namespace FineTune.Export.Ollama;

public enum RegistrationStatus { Registered, Skipped, Failed }

/// <summary>A file to upload as a blob: the name it takes in the model and its path and digest.</summary>
public sealed record OllamaBlob(string Name, string Path, string Sha256);

public sealed record OllamaChatResult(string Prompt, string Response);

public sealed record RegistrationResult(RegistrationStatus Status, string ModelName, string? Reason,
    IReadOnlyList<string> UploadedBlobs, IReadOnlyList<string> ExistingBlobs, IReadOnlyList<OllamaChatResult> Evaluations);

public sealed record RegistrationRequest(
    string ModelName,
    IReadOnlyList<OllamaBlob> Files,
    IReadOnlyList<OllamaBlob> Adapters,
    Modelfile Modelfile,
    string? FromModel = null,
    IReadOnlyList<string>? EvaluationPrompts = null);

public sealed class OllamaRegistration
{
    public static readonly ActivitySource Activity = new("FineTune.Export.Ollama");

    private readonly HttpClient _http;
    private readonly OllamaApiClient _client;
    private readonly ResiliencePipeline _retry;
    private readonly ILogger _logger;

    /// <param name="http">An HttpClient whose BaseAddress is the Ollama endpoint; OllamaSharp and the blob upload share it.</param>
    public OllamaRegistration(HttpClient http, ILogger logger, int maxRetries = 4, TimeSpan? baseDelay = null)
    {
        _http = http;
        _client = new OllamaApiClient(http);
        _logger = logger;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = maxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = baseDelay ?? TimeSpan.FromSeconds(1),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                OnRetry = args =>
                {
                    _logger.LogWarning(args.Outcome.Exception, "Ollama call failed (attempt {Attempt}); retrying in {Delay}", args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    public Uri Endpoint => _http.BaseAddress!;

    public async Task<bool> IsReachableAsync(CancellationToken ct)
    {
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(5));
            return await _client.IsRunningAsync(cts.Token);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public async Task<RegistrationResult> RegisterAsync(RegistrationRequest request, CancellationToken ct)
    {
        using var activity = Activity.StartActivity("ollama.register");
        activity?.SetTag("ollama.model", request.ModelName);
        if (!await IsReachableAsync(ct))
        {
            var note = $"Ollama at {Endpoint} is not reachable; registration skipped. Run: {Modelfile.CreateCommand(request.ModelName, Modelfile.FileName)} in the artifacts folder.";
            _logger.LogWarning("Ollama at {Endpoint} is not reachable; registration of {Model} skipped", Endpoint, request.ModelName);
            return new RegistrationResult(RegistrationStatus.Skipped, request.ModelName, note, [], [], []);
        }
        var uploaded = new List<string>();
        var existing = new List<string>();
        try
        {
            await PushBlobsAsync(request, uploaded, existing, ct);
            await CreateModelAsync(request, ct);
            var evaluations = new List<OllamaChatResult>();
            foreach (var prompt in request.EvaluationPrompts ?? [])
                evaluations.Add(new OllamaChatResult(prompt, await _retry.ExecuteAsync(async t => await ChatOnceAsync(request.ModelName, prompt, t), ct)));

            _logger.LogInformation("Registered {Model} in Ollama at {Endpoint}: {Uploaded} blob(s) uploaded, {Existing} already present",
                request.ModelName, Endpoint, uploaded.Count, existing.Count);
            return new RegistrationResult(RegistrationStatus.Registered, request.ModelName, null, uploaded, existing, evaluations);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _logger.LogError(e, "Registering {Model} in Ollama failed", request.ModelName);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            return new RegistrationResult(RegistrationStatus.Failed, request.ModelName, $"{e.GetType().Name}: {e.Message}", uploaded, existing, []);
        }
    }

    /// <summary>Uploads each GGUF and adapter blob Ollama lacks; records which were uploaded and which it already had.</summary>
    private async Task PushBlobsAsync(RegistrationRequest request, List<string> uploaded, List<string> existing, CancellationToken ct)
    {
        foreach (var blob in request.Files.Concat(request.Adapters))
        {
            if (await _retry.ExecuteAsync(async t => await _client.IsBlobExistsAsync(Digest(blob), t), ct))
                existing.Add(blob.Name);
            else
            {
                await _retry.ExecuteAsync(async t => await PushBlobStreamedAsync(blob, t), ct);
                uploaded.Add(blob.Name);
            }
        }
    }

    /// <summary>/api/create from the uploaded blobs and the Modelfile's settings, then checks /api/tags lists the model.</summary>
    private async Task CreateModelAsync(RegistrationRequest request, CancellationToken ct)
    {
        var create = new CreateModelRequest
        {
            Model = request.ModelName,
            From = request.FromModel,
            Files = request.Files.Count > 0 ? request.Files.ToDictionary(b => b.Name, Digest) : null,
            Adapters = request.Adapters.Count > 0 ? request.Adapters.ToDictionary(b => b.Name, Digest) : null,
            Template = request.Modelfile.Template,
            System = request.Modelfile.System,
            Parameters = request.Modelfile.ApiParameters(),
            Stream = false,
        };
        await _retry.ExecuteAsync(async t =>
        {
            string? last = null;
            await foreach (var status in _client.CreateModelAsync(create, t))
                last = status?.Status ?? last;
            if (last != "success") throw new OllamaRegistrationException($"/api/create ended with status '{last ?? "(none)"}', not 'success'.");
        }, ct);

        var models = await _retry.ExecuteAsync(async t => await _client.ListLocalModelsAsync(t), ct);
        if (!models.Any(m => SameModel(m.Name, request.ModelName)))
            throw new OllamaRegistrationException($"'{request.ModelName}' was created but is missing from /api/tags ({string.Join(", ", models.Select(m => m.Name))}).");
    }

    /// <summary>POST /api/blobs/sha256:… with the file streamed from disk (never loaded whole).</summary>
    private async Task PushBlobStreamedAsync(OllamaBlob blob, CancellationToken ct)
    {
        await using var file = new FileStream(blob.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        using var content = new StreamContent(file, 1 << 20);
        content.Headers.ContentLength = file.Length;
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        using var response = await _http.PostAsync($"api/blobs/{Digest(blob)}", content, ct);
        if (response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK) return;
        var body = await response.Content.ReadAsStringAsync(ct);
        throw new HttpRequestException($"POST /api/blobs/{Digest(blob)} ({blob.Name}) returned {(int)response.StatusCode}: {body}", null, response.StatusCode);
    }

    private async Task<string> ChatOnceAsync(string model, string prompt, CancellationToken ct)
    {
        var text = new System.Text.StringBuilder();
        var chat = new ChatRequest { Model = model, Messages = [new Message(ChatRole.User, prompt)], Stream = false };
        await foreach (var part in _client.ChatAsync(chat, ct))
            text.Append(part?.Message?.Content);
        return text.ToString();
    }

    private static string Digest(OllamaBlob blob) => "sha256:" + blob.Sha256;

    private static bool SameModel(string listed, string requested) =>
        listed == requested || listed == requested + ":latest" || (requested.Contains(':') && listed == requested);

    /// <summary>Connection failures, timeouts, 408, 429 and 5xx are worth retrying; other statuses are permanent.</summary>
    public static bool IsTransient(Exception e) => e switch
    {
        OllamaRegistrationException => false,
        HttpRequestException { StatusCode: null } => true,
        HttpRequestException { StatusCode: { } code } => (int)code >= 500 || code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests,
        TaskCanceledException or TimeoutException => true,
        IOException => true,
        OllamaSharp.Models.Exceptions.ResponseError r => r.Message.Contains("503", StringComparison.Ordinal) || r.Message.Contains("500", StringComparison.Ordinal),
        _ => false,
    };
}

public sealed class OllamaRegistrationException(string message) : Exception(message);
