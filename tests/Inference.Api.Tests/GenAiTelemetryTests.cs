using System.Diagnostics;
using Inference.Api.Services;
using OpenAI.Chat;

namespace Inference.Api.Tests;

/// <summary>Each completion is one span with OpenTelemetry's GenAI attributes (the dashboard's GenAI view reads them).</summary>
[Collection(InferenceCollection.Name)]
public sealed class GenAiTelemetryTests(InferenceHost host)
{
    [Fact]
    public async Task ACompletionIsAChatSpanWithModelUsageAndMessages()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == GenAiTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);

        ChatCompletion completion = await host.CreateOpenAiClient().GetChatClient(InferenceHost.JobId)
            .CompleteChatAsync([new UserChatMessage("Extract the price: $4.20")], new ChatCompletionOptions { MaxOutputTokenCount = 8, Temperature = 0 });

        Activity span;
        lock (spans) span = Assert.Single(spans, s => (string?)s.GetTagItem("gen_ai.request.model") == InferenceHost.JobId);
        Assert.Equal($"chat {InferenceHost.JobId}", span.DisplayName);
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(completion.Usage.InputTokenCount, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(completion.Usage.OutputTokenCount, span.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Contains("Extract the price: $4.20", (string)span.GetTagItem("gen_ai.input.messages")!);
        Assert.Contains("\"assistant\"", (string)span.GetTagItem("gen_ai.output.messages")!);
    }
}
