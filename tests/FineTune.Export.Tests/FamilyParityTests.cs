using FineTune.Export.Gguf;
using FineTune.Export.Verification;
using FineTune.Formats.Gguf;
using FineTune.Models;
using FineTune.Models.Tiny;
using FineTune.Models.Core;

namespace FineTune.Export.Tests;

/// <summary>
/// llama.cpp is the judge: for every family, the F32 and F16 GGUF give the same greedy tokens as our generation for 32
/// tokens, on prompts longer than Gemma 3's sliding window, and F32 + GGUF LoRA gives our merged model's tokens (up to
/// a near-tie of the two ways to apply an adapter); Q8_0 and Q4_K_M load and generate. Divergence names the family,
/// type and prompt.
/// </summary>
public sealed class FamilyParityTests(FamilyParityFixture f) : IClassFixture<FamilyParityFixture>
{
    public static TheoryData<string, string> FamiliesAndTypes()
    {
        var data = new TheoryData<string, string>();
        foreach (var family in TinyFamily.Names)
            foreach (var type in new[] { "f32", "f16" }) data.Add(family, type);
        return data;
    }

    public static TheoryData<string> Families => [.. TinyFamily.Names];

    [Theory]
    [MemberData(nameof(FamiliesAndTypes))]
    public void LlamaCppGreedyTokensEqualOursForThirtyTwoTokens(string family, string type)
    {
        var job = f[$"{family}-{type}"];
        Assert.True(job.Ok, job.Describe());
        for (var p = 0; p < f.Prompts.Count; p++)
        {
            Assert.True(f.PromptIds[family][p].Length > TinyFamily.GemmaSlidingWindow, $"prompt {p} is not longer than the window");
            Assert.Equal(f.PromptIds[family][p], job.Results![p].Input);
            Assert.Equal(FamilyParityFixture.ParityTokens, f.Ours[family][p].Length);
            Assert.True(f.Ours[family][p].SequenceEqual(job.Results[p].Generated),
                $"{family} {type} prompt {p}: ours [{string.Join(", ", f.Ours[family][p])}] llama.cpp [{string.Join(", ", job.Results[p].Generated)}]");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void LlamaCppWithTheGgufLoraAdapterEqualsOurMergedModel(string family)
    {
        var job = f[$"{family}-f32+lora"];
        Assert.True(job.Ok, job.Describe());
        for (var p = 0; p < f.Prompts.Count; p++)
            AssertSameUpToANearTie(f.HfFolders[$"{family}-merged"], f.PromptIds[family][p], f.Ours[$"{family}-merged"][p], job.Results![p].Generated,
                $"{family} prompt {p}");
        Assert.True(Enumerable.Range(0, f.Prompts.Count).Any(p => !f.Ours[$"{family}-merged"][p].SequenceEqual(f.Ours[family][p])),
            "the adapter changed no output: the comparison would prove nothing");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void QuantizedFilesLoadAndGenerate(string family)
    {
        foreach (var type in new[] { "q8_0", "q4_k_m" })
        {
            var job = f[$"{family}-{type}"];
            Assert.True(job.Ok, $"{family} {type}: {job.Describe()}");
            Assert.All(job.Results!, r => Assert.Equal(FamilyParityFixture.SmokeTokens, r.Generated.Length));
        }
    }

    [Theory]
    [InlineData("gemma3", "gemma3")]
    [InlineData("qwen3", "qwen3")]
    [InlineData("phi3", "phi3")]
    [InlineData("mistral", "llama")]
    [InlineData("qwen2", "qwen2")]
    public void GgufCarriesTheArchitectureAndItsKeys(string family, string arch)
    {
        Assert.Equal(arch, f[$"{family}-f32"].Model!.Architecture);
        using var reader = GgufReader.Open(f.Ggufs[$"{family}-f16"]);
        var keys = reader.Metadata.Keys.ToHashSet();
        var tensors = reader.Tensors.Select(t => t.Name).ToHashSet();
        switch (family)
        {
            case "gemma3":
                Assert.Contains("gemma3.attention.sliding_window", keys);
                Assert.Contains("gemma3.attention.sliding_window_pattern", keys);
                Assert.Contains("gemma3.rope.freq_base_swa", keys);
                Assert.Contains("gemma3.final_logit_softcapping", keys);
                Assert.Contains("blk.0.post_ffw_norm.weight", tensors);
                Assert.Contains("blk.0.post_attention_norm.weight", tensors);
                Assert.DoesNotContain("output.weight", tensors);
                break;
            case "qwen3":
                Assert.Contains("blk.0.attn_q_norm.weight", tensors);
                Assert.Contains("qwen3.attention.key_length", keys);
                break;
            case "phi3":
                Assert.Contains("blk.0.attn_qkv.weight", tensors);
                Assert.Contains("rope_factors_long.weight", tensors);
                Assert.Contains("phi3.rope.scaling.attn_factor", keys);
                break;
        }
    }

    [Fact]
    public void AFileLlamaCppCannotLoadIsReportedInOneLine()
    {
        var job = f["broken"];
        Assert.False(job.Ok);
        var line = job.Summary();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("    at ", line);
        Assert.False(string.IsNullOrWhiteSpace(line));
    }

    [Fact]
    public void MistralWithASlidingWindowWarnsThatLlamaCppsLlamaGraphHasNone()
    {
        var config = ModelConfig.FromFolder(f.HfFolders["mistral"]);
        Assert.Empty(GgufModelParameters.From(config, "config.json").Warnings);
        var windowed = GgufModelParameters.From(config with { SlidingWindow = 16 }, "config.json");
        var warning = Assert.Single(windowed.Warnings);
        Assert.Contains("sliding window of 16", warning);
    }

    /// <summary>A logit gap this small between our two best next tokens is a tie as far as float32 sums go.</summary>
    private const float NearTie = 1e-3f;

    /// <summary>
    /// llama.cpp applies the adapter at run time, W·x + s·B·(A·x), where we merged it, (W + s·B·A)·x: the two sums
    /// differ in their last bits, so greedy decoding may part where two tokens are that close. The continuations must be
    /// equal, or equal up to a token where our merged model's two best logits differ by less than <see cref="NearTie"/>.
    /// </summary>
    private static void AssertSameUpToANearTie(string mergedFolder, int[] prompt, int[] merged, int[] llamaCpp, string what)
    {
        var common = merged.Zip(llamaCpp).TakeWhile(pair => pair.First == pair.Second).Count();
        if (common == merged.Length && merged.Length == llamaCpp.Length) return;
        var gap = TopTwoGap(mergedFolder, [.. prompt, .. merged[..common]]);
        Assert.True(gap < NearTie,
            $"{what}: merged [{string.Join(", ", merged)}] llama.cpp+lora [{string.Join(", ", llamaCpp)}] part at token {common}, " +
            $"where our two best logits differ by {gap:G3}: not a near-tie");
    }

    /// <summary>Our model's best logit minus its second best, after <paramref name="ids"/>.</summary>
    private static float TopTwoGap(string folder, long[] ids)
    {
        using var lm = CausalLM.Load(folder);
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        var top = lm.forward(TorchSharp.torch.tensor(ids).unsqueeze(0))[0, -1].topk(2).values;
        return top[0].item<float>() - top[1].item<float>();
    }
}
