using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Training.Telemetry;

/// <summary>
/// Spans of model generation (evaluation answers, before and after fine-tuning) in OpenTelemetry's GenAI semantic
/// conventions, so the Aspire dashboard's GenAI view shows each prompt and completion: one "text_completion {model}" span per
/// prompt with gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.request.max_tokens,
/// gen_ai.usage.input_tokens / output_tokens, gen_ai.response.finish_reasons, and the messages as gen_ai.input.messages /
/// gen_ai.output.messages plus the older gen_ai.content.prompt / gen_ai.content.completion events. Message content is
/// recorded only when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT is true (the AppHost sets it in run mode).
/// </summary>
public static class GenAiTelemetry
{
    public const string SourceName = "FineTune.Training.Generation";
    public const string Provider = "finetune.torchsharp";
    private static readonly ActivitySource Source = new(SourceName);

    public static bool CaptureContent { get; } =
        string.Equals(Environment.GetEnvironmentVariable("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Records one finished generation as a span that started at <paramref name="started"/>.</summary>
    public static void Completion(string model, DateTimeOffset started, int maxTokens, int inputTokens, int outputTokens,
        string finishReason, string prompt, string completion)
    {
        if (!Source.HasListeners()) return;
        using var span = Source.StartActivity($"text_completion {model}", ActivityKind.Client, default(ActivityContext), startTime: started);
        if (span is null) return;
        span.SetTag("gen_ai.operation.name", "text_completion");
        span.SetTag("gen_ai.provider.name", Provider);
        span.SetTag("gen_ai.system", Provider);
        span.SetTag("gen_ai.request.model", model);
        span.SetTag("gen_ai.response.model", model);
        span.SetTag("gen_ai.request.max_tokens", maxTokens);
        span.SetTag("gen_ai.request.temperature", 0.0);
        span.SetTag("gen_ai.usage.input_tokens", inputTokens);
        span.SetTag("gen_ai.usage.output_tokens", outputTokens);
        span.SetTag("gen_ai.response.finish_reasons", new[] { finishReason });
        if (!CaptureContent) return;
        span.SetTag("gen_ai.input.messages", Messages("user", prompt, null));
        span.SetTag("gen_ai.output.messages", Messages("assistant", completion, finishReason));
        span.AddEvent(new ActivityEvent("gen_ai.content.prompt", tags: new ActivityTagsCollection { ["gen_ai.prompt"] = prompt }));
        span.AddEvent(new ActivityEvent("gen_ai.content.completion", tags: new ActivityTagsCollection { ["gen_ai.completion"] = completion }));
    }

    private static string Messages(string role, string text, string? finishReason)
    {
        var message = new JsonObject { ["role"] = role, ["parts"] = new JsonArray(new JsonObject { ["type"] = "text", ["content"] = text }) };
        if (finishReason is not null) message["finish_reason"] = finishReason;
        return new JsonArray(message).ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
