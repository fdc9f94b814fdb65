using FineTune.Models;
using FineTune.Models.Generation;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

public class GenerationTests
{
    private static readonly Func<IReadOnlyList<int>, string> Letters = ids => string.Concat(ids.Select(i => (char)('a' + i % 26)));

    private static int[] GreedyByFullRecomputation(CausalLM model, int[] prompt, int count)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var seq = prompt.Select(i => (long)i).ToList();
        for (var i = 0; i < count; i++)
            seq.Add(model.forward(ModelKit.Ids([.. seq]))[0, -1].argmax().item<long>());
        return [.. seq.Skip(prompt.Length).Select(i => (int)i)];
    }

    [Fact]
    public void GreedyGenerationWithTheCacheEqualsArgmaxOfFullRecomputation()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson("Qwen2ForCausalLM"));
        int[] prompt = [3, 1, 4, 1, 5];

        var result = new TextGenerator(model).Generate(prompt, new GenerationOptions { Greedy = true, MaxNewTokens = 10 });

        Assert.Equal(GreedyByFullRecomputation(model, prompt, 10), result.TokenIds);
        Assert.Equal(FinishReason.Length, result.FinishReason);
    }

    [Fact]
    public void BatchedPromptsOfDifferentLengthsMatchEachPromptAlone()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson());
        int[][] prompts = [[7], [2, 7, 1, 8, 2, 8], [9, 9, 9]];
        var generator = new TextGenerator(model);
        var options = new GenerationOptions { Greedy = true, MaxNewTokens = 6 };

        var batched = generator.Generate(prompts, options);

        for (var i = 0; i < prompts.Length; i++)
            Assert.Equal(GreedyByFullRecomputation(model, prompts[i], 6), batched[i].TokenIds);
        Assert.Equal(prompts.Sum(p => p.Length), generator.LastStats!.PromptTokens);
    }

    [Fact]
    public void EosTokenEndsTheSequenceAndIsLeftOut()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson());
        int[] prompt = [1, 2, 3];
        var free = GreedyByFullRecomputation(model, prompt, 8);
        var eos = free[3];
        var firstEos = Array.IndexOf(free, eos);

        var result = new TextGenerator(model).Generate(prompt, new GenerationOptions { Greedy = true, MaxNewTokens = 8, EosTokenIds = [eos] });

        Assert.Equal(FinishReason.Eos, result.FinishReason);
        Assert.Equal(free[..firstEos], result.TokenIds);
    }

    [Fact]
    public void StopStringCutsTheTextAndStreamingNeverShowsItsBeginning()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson());
        int[] prompt = [4, 5, 6];
        var free = Letters(GreedyByFullRecomputation(model, prompt, 10));
        var stop = free.Substring(4, 2);
        var cut = free.IndexOf(stop, StringComparison.Ordinal);
        var streamed = new List<GeneratedToken>();

        var result = new TextGenerator(model, Letters).Generate(prompt,
            new GenerationOptions { Greedy = true, MaxNewTokens = 10, StopStrings = [stop] }, streamed.Add);

        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(free[..cut], result.Text);
        Assert.Equal(result.Text, string.Concat(streamed.Select(t => t.TextDelta)));
        Assert.Equal(cut + stop.Length, result.TokenIds.Length);
    }

    [Fact]
    public void SeededSamplingIsReproducibleAndTopKOfOneIsGreedy()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson());
        var generator = new TextGenerator(model);
        int[] prompt = [1, 2, 3];
        var sampling = new GenerationOptions { Temperature = 1.5, MaxNewTokens = 16, Seed = 42 };

        var a = generator.Generate(prompt, sampling).TokenIds;
        var b = generator.Generate(prompt, sampling).TokenIds;
        var c = generator.Generate(prompt, sampling with { Seed = 43 }).TokenIds;

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        var greedy = GreedyByFullRecomputation(model, prompt, 16);
        Assert.Equal(greedy, generator.Generate(prompt, sampling with { TopK = 1 }).TokenIds);
        Assert.Equal(greedy, generator.Generate(prompt, sampling with { TopP = 1e-6 }).TokenIds);
    }

    [Fact]
    public void TopKAndTopPSampleOnlyFromTheKeptTokens()
    {
        using var scope = NewDisposeScope();
        // probabilities 0.5, 0.3, 0.15, 0.05
        var logits = tensor(new[] { 0.5f, 0.3f, 0.15f, 0.05f }).log().unsqueeze(0).expand(400, 4);
        using var g = new TorchSharp.torch.Generator(7);

        int[] Draw(GenerationOptions o) => [.. new Sampler(o, g).Next(logits).data<long>().ToArray().Select(i => (int)i).Distinct().Order()];

        Assert.Equal([0, 1], Draw(new GenerationOptions { TopK = 2 }));
        Assert.Equal([0, 1], Draw(new GenerationOptions { TopP = 0.7 }));  // 0.5 < 0.7 ≤ 0.5 + 0.3
        Assert.Equal([0], Draw(new GenerationOptions { TopP = 0.5 }));
        Assert.Equal([0, 1, 2, 3], Draw(new GenerationOptions()));
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeScoresOfSeenTokens()
    {
        using var scope = NewDisposeScope();
        var scores = tensor(new[] { 2f, -2f, 1f }, [1, 3]);
        Sampler.ApplyRepetitionPenalty(scores, [new[] { 0, 1 }], 2.0);
        Assert.Equal(new[] { 1f, -4f, 1f }, scores.data<float>().ToArray());
    }

    [Theory]
    [InlineData("hello <|e", "hello ")]
    [InlineData("hello <|end", "hello ")]
    [InlineData("hello <", "hello ")]
    [InlineData("hello", "hello")]
    [InlineData("caf\uFFFD", "caf")]
    public void StreamingHoldsBackWhatMayStillBecomeAStopString(string text, string safe) =>
        Assert.Equal(safe, text[..new StopStringMatcher(["<|end|>"]).SafeLength(text)]);

    [Fact]
    public void InvalidOptionsAndPromptsAreRejected()
    {
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson(layers: 1));
        var g = new TextGenerator(model);
        Assert.Throws<ArgumentException>(() => g.Generate([1], new GenerationOptions { TopP = 0 }));
        Assert.Throws<ArgumentException>(() => g.Generate([64], new GenerationOptions()));
        Assert.Throws<ArgumentException>(() => g.Generate([1], new GenerationOptions { StopStrings = ["x"] }));
    }
}
