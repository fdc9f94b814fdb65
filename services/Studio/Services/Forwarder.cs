using Microsoft.AspNetCore.Http.Features;

namespace Studio.Services;

/// <summary>
/// Passes one request to an upstream service (front door or inference) and streams its answer back as it arrives: status,
/// content headers and body, flushed per read so Server-Sent Events reach the browser live. Hand-written because the
/// routes are few and fixed (a reverse-proxy library would add a routing layer and its configuration for six routes).
/// </summary>
public static class Forwarder
{
    private static readonly string[] RequestHeaders = ["Accept", "Last-Event-ID"];
    private static readonly string[] ResponseHeaders = ["Cache-Control", "Location"];

    public static async Task ForwardAsync(HttpContext context, HttpClient client, string path)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), path + request.QueryString);
        foreach (var name in RequestHeaders)
            if (request.Headers.TryGetValue(name, out var value)) message.Headers.TryAddWithoutValidation(name, value.ToArray());
        if (HttpMethods.IsPost(request.Method) || HttpMethods.IsPut(request.Method))
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
                size.MaxRequestBodySize = null; // the upstream enforces its own limit and names it
            message.Content = new StreamContent(request.Body);
            if (request.ContentType is { } type) message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            if (request.ContentLength is { } length) message.Content.Headers.ContentLength = length;
        }

        HttpResponseMessage answer;
        try
        {
            answer = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            await Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Upstream unreachable",
                detail: $"{client.BaseAddress}: {e.Message}").ExecuteAsync(context);
            return;
        }
        using (answer)
            await CopyAsync(context, answer);
    }

    private static async Task CopyAsync(HttpContext context, HttpResponseMessage answer)
    {
        var response = context.Response;
        response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, values) in answer.Content.Headers)
            if (name is "Content-Type" or "Content-Disposition" or "Content-Length") response.Headers[name] = values.ToArray();
        foreach (var name in ResponseHeaders)
            if (answer.Headers.TryGetValues(name, out var values)) response.Headers[name] = values.ToArray();
        var streaming = answer.Content.Headers.ContentType?.MediaType == "text/event-stream";
        if (streaming) context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var body = await answer.Content.ReadAsStreamAsync(context.RequestAborted);
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
                if (streaming) await response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // the browser left the page
        }
    }
}
