using FineTune.Models;
using FineTune.Models.Generation;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Export.Tests;

/// <summary>
/// F32 and F16 GGUF exports of tiny models that use the product's tokenizer: llama.cpp tokenizes every prompt exactly
/// as HfTokenizer does, and its greedy continuation equals our TorchSharp greedy generation token for token.
/// </summary>
public sealed class TorchSharpParityTests(LlamaCppFixture f) : IClassFixture<LlamaCppFixture>
{
    [Theory]
    [InlineData("tt-qwen", "f32")]
    [InlineData("tt-qwen", "f16")]
    [InlineData("tt-llama", "f32")]
    [InlineData("tt-llama", "f16")]
    public void LlamaCppTokenizesPromptsExactlyAsHfTokenizer(string model, string type)
    {
        var tokenizer = HfTokenizer.FromFolder(f.HfFolders[model]);
        var job = f[$"{model}-{type}"];
        Assert.True(job.Ok, job.Describe());
        Assert.False(job.Model!.AddBos);
        Assert.Equal(tokenizer.EosId, job.Model.Eos);
        for (var p = 0; p < f.ParityPrompts.Count; p++)
        {
            Assert.Equal(tokenizer.Encode(f.ParityPrompts[p], addSpecialTokens: false), job.Results![p].Tokens);
            Assert.Equal(tokenizer.Encode(f.ParityPrompts[p], addSpecialTokens: true), job.Results![p].Input);
        }
    }

    [Theory]
    [InlineData("tt-qwen", "f32")]
    [InlineData("tt-qwen", "f16")]
    [InlineData("tt-llama", "f32")]
    [InlineData("tt-llama", "f16")]
    public void LlamaCppGreedyContinuationEqualsTorchSharpGreedyGeneration(string model, string type)
    {
        var folder = f.HfFolders[model];
        var tokenizer = HfTokenizer.FromFolder(folder);
        using var lm = CausalLM.Load(folder);
        var generator = new TextGenerator(lm);
        var job = f[$"{model}-{type}"];
        Assert.True(job.Ok, job.Describe());
        var options = new GenerationOptions { Greedy = true, MaxNewTokens = LlamaCppFixture.MaxTokens };
        for (var p = 0; p < f.ParityPrompts.Count; p++)
        {
            var ours = generator.Generate(tokenizer.Encode(f.ParityPrompts[p], addSpecialTokens: true), options).TokenIds;
            Assert.Equal(ours, job.Results![p].Generated);
        }
    }
}
