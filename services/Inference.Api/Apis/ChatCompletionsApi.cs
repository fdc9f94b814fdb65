using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using Inference.Api.Model;
using Inference.Api.Services;
using Microsoft.AspNetCore.Http.Features;

namespace Inference.Api.Apis;

/// <summary>
/// OpenAI's <c>POST /v1/chat/completions</c>: one JSON answer, or with <c>"stream": true</c> Server-Sent Events of
/// <c>chat.completion.chunk</c> objects ending with <c>data: [DONE]</c>. Errors before the first token are JSON with a 4xx
/// status; an error after it (the stream has begun) is one <c>data: {"error": …}</c> event.
/// </summary>
public static class ChatCompletionsApi
{
    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CompleteAsync).WithName("CreateChatCompletion");
        return app;
    }

    private static async Task CompleteAsync(HttpContext context, ChatEngine engine, ILoggerFactory loggers)
    {
        var request = ChatRequest.Parse(await ReadJsonAsync(context.Request));
        var id = "chatcmpl-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!request.Stream)
        {
            var outcome = await engine.CompleteAsync(request, null, null, context.RequestAborted);
            await Results.Json(new ChatCompletion(id, created, request.Model,
                [new Choice(0, new AssistantMessage(outcome.Text), outcome.FinishReason)],
                new Usage(outcome.PromptTokens, outcome.CompletionTokens)), OpenAiJson.Options).ExecuteAsync(context);
            return;
        }
        await StreamAsync(context, engine, request, id, created, loggers.CreateLogger(typeof(ChatCompletionsApi)));
    }

    private static async Task StreamAsync(HttpContext context, ChatEngine engine, ChatRequest request, string id, long created, ILogger logger)
    {
        var deltas = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = engine.CompleteAsync(request, _ => started.TrySetResult(), d => deltas.Writer.TryWrite(d), context.RequestAborted);
        _ = run.ContinueWith(_ => deltas.Writer.TryComplete(), TaskScheduler.Default);
        if (await Task.WhenAny(started.Task, run) == run && !started.Task.IsCompleted)
            await run; // failed before the first token (unknown model, template, context length): answered as JSON by the middleware

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        ChatCompletionChunk Make(Delta delta, string? finish = null) => new(id, created, request.Model, [new ChunkChoice(0, delta, finish)]);
        await WriteAsync(response, Make(new Delta("assistant", "")), context.RequestAborted);
        await foreach (var delta in deltas.Reader.ReadAllAsync(context.RequestAborted))
            await WriteAsync(response, Make(new Delta(null, delta)), context.RequestAborted);
        try
        {
            var outcome = await run;
            await WriteAsync(response, Make(new Delta(null, null), outcome.FinishReason), context.RequestAborted);
            if (request.IncludeUsage)
                await WriteAsync(response, new ChatCompletionChunk(id, created, request.Model, [], new Usage(outcome.PromptTokens, outcome.CompletionTokens)), context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Chat completion {Id} failed after streaming began", id);
            var error = e is OpenAiException o ? o.Body : new OpenAiErrorBody(new OpenAiError($"generation failed: {e.Message}", "server_error", null, null));
            await response.WriteAsync($"data: {JsonSerializer.Serialize(error, OpenAiJson.Options)}\n\n", context.RequestAborted);
        }
        await response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteAsync<T>(HttpResponse response, T chunk, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"data: {JsonSerializer.Serialize(chunk, OpenAiJson.Options)}\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpRequest request)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw OpenAiException.BadRequest($"The body is not valid JSON: {e.Message}");
        }
    }
}
