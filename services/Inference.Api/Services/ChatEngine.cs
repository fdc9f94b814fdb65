using FineTune.Models.Generation;
using Inference.Api.Model;

namespace Inference.Api.Services;

/// <summary>What one completion produced.</summary>
public sealed record ChatOutcome(string Text, string FinishReason, int PromptTokens, int CompletionTokens);

/// <summary>
/// One chat completion with the product's own code: the model's chat template renders the conversation with the generation
/// prompt (FineTune.Models ChatTemplate, as training rendered it), its tokenizer encodes it, and FineTune.Models'
/// <see cref="TextGenerator"/> decodes with the KV cache, stopping at the template's end-of-turn ids and the request's stop strings.
/// </summary>
public sealed class ChatEngine(ModelCatalog catalog, ModelCache cache, InferenceOptions options)
{
    /// <summary>
    /// Runs the completion. <paramref name="onStart"/> is called once the prompt is encoded (before any token), so a streaming
    /// caller can still answer an error as JSON up to that point; <paramref name="onDelta"/> gets text as it becomes safe to show.
    /// </summary>
    public Task<ChatOutcome> CompleteAsync(ChatRequest request, Action<int>? onStart, Action<string>? onDelta, CancellationToken cancellationToken)
    {
        var entry = catalog.Find(request.Model) ?? throw OpenAiException.ModelNotFound(request.Model);
        var maxTokens = request.MaxTokens ?? options.DefaultMaxTokens;
        if (maxTokens > options.MaxTokensLimit)
            throw OpenAiException.BadRequest($"max_tokens is {maxTokens}; this server allows at most {options.MaxTokensLimit} (Inference:MaxTokensLimit).", "max_tokens");
        return cache.UseAsync(entry, model => Run(model, request, maxTokens, onStart, onDelta, cancellationToken), cancellationToken);
    }

    private static ChatOutcome Run(LoadedModel model, ChatRequest request, int maxTokens, Action<int>? onStart, Action<string>? onDelta,
        CancellationToken cancellationToken)
    {
        using var activity = GenAiTelemetry.Start(request, maxTokens);
        var prompt = Encode(model, request);
        var context = model.Model.Config.MaxPositionEmbeddings;
        if (prompt.Length + maxTokens > context)
            throw OpenAiException.BadRequest($"The conversation is {prompt.Length} tokens and max_tokens is {maxTokens}: more than the model's context of {context} tokens.",
                "messages", "context_length_exceeded");
        onStart?.Invoke(prompt.Length);
        var tokenizer = model.Encoder.Tokenizer;
        var generator = new TextGenerator(model.Model, ids => tokenizer.Decode(ids, skipSpecialTokens: true));
        var generation = new GenerationOptions
        {
            MaxNewTokens = maxTokens,
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = request.Seed,
            StopStrings = request.Stop,
            EosTokenIds = model.StopIds,
        };
        var result = generator.Generate(prompt, generation, t => { if (!string.IsNullOrEmpty(t.TextDelta)) onDelta?.Invoke(t.TextDelta); }, cancellationToken);
        var finish = result.FinishReason == FinishReason.Length ? "length" : "stop";
        var outcome = new ChatOutcome(result.Text ?? "", finish, prompt.Length, result.TokenIds.Length);
        GenAiTelemetry.Finish(activity, request, outcome);
        return outcome;
    }

    private static int[] Encode(LoadedModel model, ChatRequest request)
    {
        string text;
        try
        {
            text = model.Encoder.Template.Render(request.Messages, addGenerationPrompt: true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Templates raise on conversations their format cannot hold (e.g. roles that do not alternate).
            throw OpenAiException.BadRequest($"The chat template of '{request.Model}' refused the messages: {e.Message}", "messages");
        }
        var ids = model.Encoder.Tokenizer.Encode(text, addSpecialTokens: false); // the template writes any BOS itself
        return ids.Length > 0 ? ids : throw OpenAiException.BadRequest("The messages render to an empty prompt.", "messages");
    }
}
