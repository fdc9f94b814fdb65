using System.Text.Json;
using Inference.Api.Model;
using Microsoft.AspNetCore.Http.Features;

namespace Inference.Api.Apis;

/// <summary>
/// Every error leaves as OpenAI's error body: <see cref="OpenAiException"/> with its 4xx status, a malformed request
/// (Kestrel's BadHttpRequestException) as 400, an unknown route or method as 404/405, and anything unexpected as 500 with
/// the exception's type only (the stack trace goes to the log, never to the client).
/// </summary>
public static class OpenAiErrors
{
    public static WebApplication UseOpenAiErrors(this WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
                if (context.Response is { HasStarted: false, StatusCode: 404 or 405 } response && response.ContentLength is null or 0
                    && context.GetEndpoint() is null)
                    await WriteAsync(context, response.StatusCode, new OpenAiError(
                        $"{context.Request.Method} {context.Request.Path} is not a route of this server (GET /v1/models, POST /v1/chat/completions).",
                        OpenAiException.InvalidRequest, null, response.StatusCode == 404 ? "not_found" : "method_not_allowed"));
            }
            catch (OpenAiException e)
            {
                await WriteAsync(context, e.Status, e.Body.Error);
            }
            catch (BadHttpRequestException e)
            {
                await WriteAsync(context, e.StatusCode is >= 400 and < 500 ? e.StatusCode : 400, new OpenAiError(e.Message, OpenAiException.InvalidRequest, null, null));
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // the client went away
            }
            catch (Exception e)
            {
                app.Logger.LogError(e, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
                await WriteAsync(context, 500, new OpenAiError($"The server failed ({e.GetType().Name}); see its log.", "server_error", null, null));
            }
        });
        return app;
    }

    private static async Task WriteAsync(HttpContext context, int status, OpenAiError error)
    {
        if (context.Response.HasStarted)
        {
            await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(new OpenAiErrorBody(error), OpenAiJson.Options)}\n\n");
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = null;
        await context.Response.WriteAsJsonAsync(new OpenAiErrorBody(error), OpenAiJson.Options);
    }
}
