using System.Diagnostics;
using System.Text.Json;
using Inference.Api.Model;

namespace Inference.Api.Services;

/// <summary>
/// One span per completion, named and tagged by OpenTelemetry's GenAI semantic conventions (<c>chat {model}</c>,
/// <c>gen_ai.*</c> request, usage and response attributes, and the conversation as <c>gen_ai.input.messages</c> /
/// <c>gen_ai.output.messages</c>), so the Aspire dashboard's GenAI view shows prompts and answers.
/// </summary>
public static class GenAiTelemetry
{
    public const string SourceName = "FineTune.Inference";
    private static readonly ActivitySource Source = new(SourceName);

    public static Activity? Start(ChatRequest request, int maxTokens)
    {
        var activity = Source.StartActivity($"chat {request.Model}");
        if (activity is null) return null;
        activity.SetTag("gen_ai.operation.name", "chat");
        activity.SetTag("gen_ai.provider.name", "finetune");
        activity.SetTag("gen_ai.request.model", request.Model);
        activity.SetTag("gen_ai.request.max_tokens", maxTokens);
        activity.SetTag("gen_ai.request.temperature", request.Temperature);
        activity.SetTag("gen_ai.request.top_p", request.TopP);
        if (request.Seed is { } seed) activity.SetTag("gen_ai.request.seed", seed);
        activity.SetTag("gen_ai.input.messages", JsonSerializer.Serialize(request.Messages.Select(m => new
        {
            role = m.Role,
            parts = new[] { new { type = "text", content = m.Content } },
        })));
        return activity;
    }

    public static void Finish(Activity? activity, ChatRequest request, ChatOutcome outcome)
    {
        if (activity is null) return;
        activity.SetTag("gen_ai.response.model", request.Model);
        activity.SetTag("gen_ai.response.finish_reasons", new[] { outcome.FinishReason });
        activity.SetTag("gen_ai.usage.input_tokens", outcome.PromptTokens);
        activity.SetTag("gen_ai.usage.output_tokens", outcome.CompletionTokens);
        activity.SetTag("gen_ai.output.messages", JsonSerializer.Serialize(new[]
        {
            new { role = "assistant", parts = new[] { new { type = "text", content = outcome.Text } }, finish_reason = outcome.FinishReason },
        }));
    }
}
