using System.Text;
using FineTune.Models;
using FineTune.Models.Generation;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using OpenAI.Chat;

namespace Inference.Api.Tests;

/// <summary>The official OpenAI client against the running API: models, non-streaming and streaming completions, end to end.</summary>
[Collection(InferenceCollection.Name)]
public sealed class ChatCompletionsTests(InferenceHost host)
{
    private const string Prompt = "<div class=\"product\"><h2>Aurora Kettle</h2><span>$39.90</span></div> Extract the product as JSON.";
    private const int MaxTokens = 24;

    [Fact]
    public async Task ModelsListsTheJobsFineTunedModelItsBaseAndTheModelFolders()
    {
        var models = (await host.CreateOpenAiClient().GetOpenAIModelClient().GetModelsAsync()).Value.Select(m => m.Id).ToList();

        Assert.Contains(InferenceHost.JobId, models);
        Assert.Contains(InferenceHost.JobId + ":base", models);
        Assert.Contains(InferenceHost.BaseModel, models);
        Assert.Contains(InferenceHost.MergedJobId, models);              // served from its merged folder
        Assert.DoesNotContain(InferenceHost.MergedJobId + ":base", models); // no adapter says which base it came from
        Assert.Equal(4, models.Count);
    }

    [Fact]
    public async Task NonStreamingCompletionAnswersWithTextFinishReasonAndUsage()
    {
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.BaseModel);

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(Prompt)],
            new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 });

        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(InferenceHost.BaseModel, completion.Model);
        Assert.True(completion.Usage.InputTokenCount > 10, $"prompt tokens {completion.Usage.InputTokenCount}");
        Assert.InRange(completion.Usage.OutputTokenCount, 1, MaxTokens);
        Assert.Contains(completion.FinishReason, new[] { ChatFinishReason.Stop, ChatFinishReason.Length });
        Assert.Equal(Reference(adapter: false), completion.Content[0].Text);
    }

    [Fact]
    public async Task StreamedCompletionOfTheFineTunedModelEqualsTheProductsOwnGenerationWithTheAdapter()
    {
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.JobId);
        var text = new StringBuilder();
        var updates = 0;
        ChatFinishReason? finish = null;

        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(Prompt)],
                           new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 }))
        {
            updates++;
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        var tuned = Reference(adapter: true);
        Assert.True(updates >= 3, $"{updates} updates: the answer should arrive in pieces");
        Assert.NotNull(finish);
        Assert.Equal(tuned, text.ToString());
        Assert.NotEqual(Reference(adapter: false), tuned); // the adapter is applied: training changed the greedy answer
    }

    [Fact]
    public async Task SeededSampledStreamEqualsTheSameNonStreamedAnswer()
    {
        // The tiny model's sampled bytes include characters split over tokens: the stream must still add up to the answer.
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.BaseModel);
#pragma warning disable OPENAI001 // Seed is marked experimental in the client
        var options = () => new ChatCompletionOptions { MaxOutputTokenCount = 64, Temperature = 1, Seed = 1234 };
        ChatCompletion whole = await chat.CompleteChatAsync([new UserChatMessage("商品价格是多少？")], options());
        var text = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("商品价格是多少？")], options()))
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
#pragma warning restore OPENAI001

        Assert.False(string.IsNullOrEmpty(whole.Content[0].Text));
        Assert.Equal(whole.Content[0].Text, text.ToString());
    }

    [Fact]
    public async Task AMergedExportAnswersAsBasePlusAdapter()
    {
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.MergedJobId);

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(Prompt)],
            new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 });

        Assert.Equal(Reference(adapter: true), completion.Content[0].Text);
    }

    [Fact]
    public async Task BaseOfAJobAnswersAsTheBaseModelFolder()
    {
        var chat = host.CreateOpenAiClient().GetChatClient(InferenceHost.JobId + ":base");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage(Prompt)],
            new ChatCompletionOptions { MaxOutputTokenCount = MaxTokens, Temperature = 0 });

        Assert.Equal(Reference(adapter: false), completion.Content[0].Text);
    }

    /// <summary>Greedy answer computed here with FineTune.Models/Training directly (adapter injected, not merged).</summary>
    private string Reference(bool adapter)
    {
        var encoder = FineTune.Models.Core.ChatTemplates.ConversationEncoder.FromFolder(host.ModelFolder);
        using var model = CausalLM.Load(host.ModelFolder, TorchSharp.torch.CPU);
        if (adapter) PeftAdapterFiles.Load(new CausalLMTrainable(model), host.AdapterFolder);
        model.eval();
        var prompt = encoder.Tokenizer.Encode(encoder.Template.Render([new FineTune.Models.Core.ChatTemplates.ChatMessage("user", Prompt)], addGenerationPrompt: true), addSpecialTokens: false);
        var stops = encoder.EndOfTurnIds.Concat(encoder.Tokenizer.EosIds).Concat(model.Config.EosTokenIds).Distinct().ToArray();
        var generator = new TextGenerator(model, ids => encoder.Tokenizer.Decode(ids, skipSpecialTokens: true));
        return generator.Generate(prompt, new GenerationOptions { Greedy = true, MaxNewTokens = MaxTokens, EosTokenIds = stops }).Text ?? "";
    }
}
