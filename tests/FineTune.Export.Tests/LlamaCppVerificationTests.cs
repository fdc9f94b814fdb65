using FineTune.Formats.Gguf;
using Xunit.Abstractions;
using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Export.Tests;

/// <summary>Every export is loaded and run by real llama.cpp (node-llama-cpp's prebuilt engine).</summary>
public sealed class LlamaCppVerificationTests(LlamaCppFixture f, ITestOutputHelper output) : IClassFixture<LlamaCppFixture>
{
    [Fact]
    public void TimingsAreReported()
    {
        output.WriteLine($"export {f.ExportSeconds:F1}s, engine {f.EngineSeconds:F1}s");
        foreach (var job in f.JobNames) output.WriteLine($"{job}: {f[job].Ms} ms");
        Assert.All(f.JobNames, j => Assert.True(f[j].Ok, f[j].Describe()));
    }

    private int[] Generated(string job, int prompt)
    {
        var r = f[job];
        Assert.True(r.Ok, $"llama.cpp failed on {job}: {r.Describe()}");
        return r.Results![prompt].Generated;
    }

    [Theory]
    [InlineData("qwen-f32")]
    [InlineData("qwen-f16")]
    [InlineData("qwen-bf16")]
    [InlineData("qwen-q8_0")]
    [InlineData("qwen-q4_0")]
    [InlineData("qwen-q4_k_m")]
    [InlineData("llama-f32")]
    [InlineData("llama-f16")]
    [InlineData("qwen256-f16")]
    [InlineData("qwen256-q8_0")]
    [InlineData("qwen256-q4_k_m")]
    public void EveryFileTypeLoadsAndGeneratesInLlamaCpp(string job)
    {
        for (var p = 0; p < LlamaCppFixture.Prompts.Length; p++)
        {
            var generated = Generated(job, p);
            Assert.Equal(LlamaCppFixture.MaxTokens, generated.Length);
            Assert.All(generated, t => Assert.InRange(t, 0, 299));
        }
        Assert.Equal(f[job].Model!.Architecture, job.StartsWith("llama") ? "llama" : "qwen2");
    }

    [Fact]
    public void LlamaCppTokenizesWithTheByteLevelBpeMergesAndSpecialTokens()
    {
        var tokens = f["qwen-f32"].Results!;
        // "hello" = h·e → he, l·l → ll, he·ll → hell, hell·o → hello; "Ġthe" = Ġ·t → Ġt, h·e → he, Ġt·he → Ġthe.
        const int hello = 256 + 28, gThe = 256 + 2, gW = 256 + 9, or = 256 + 18, er = 256 + 5;
        Assert.Equal([hello, gThe, gW, or, 'l', 'd'], tokens[0].Tokens);
        const int imStart = 287, imEnd = 288, newline = 10, space = 32;   // byte b is token b in the byte alphabet
        const int gi = 256 + 25, on = 256 + 6, isTok = 256 + 16, an = 256 + 22;
        Assert.Equal(
            [imStart, 'u', 's', er, newline, hello, ',', space, isTok, gi, 't', space, on, '?', imEnd, newline,
             imStart, 'a', 's', 's', isTok, 't', an, 't', newline],
            tokens[1].Tokens);
        // All exports share the vocabulary, so llama.cpp tokenizes identically whatever the weight type.
        foreach (var job in new[] { "qwen-q4_k_m", "llama-f32", "qwen256-q4_k_m" })
            for (var p = 0; p < LlamaCppFixture.Prompts.Length; p++)
                Assert.Equal(tokens[p].Tokens, f[job].Results![p].Tokens);
        Assert.Equal(imEnd, f["qwen-f32"].Model!.Eos);
        Assert.Null(f["qwen-f32"].Model!.Bos);
        Assert.False(f["qwen-f32"].Model!.AddBos);
    }

    [Fact]
    public void LlamaQkPermutationMatchesTheQwen2TwinWithNeoxRope()
    {
        // Same weights, no q/k biases: qwen2 (NEOX RoPE, no permute) and llama (NORM RoPE on permuted rows) must agree.
        for (var p = 0; p < LlamaCppFixture.Prompts.Length; p++)
            Assert.Equal(Generated("qwen-nobias-f32", p), Generated("llama-f32", p));
    }

    [Theory]
    [InlineData("qwen")]
    [InlineData("qwen-nobias")]
    [InlineData("llama")]
    public void GgufLoraAdapterAppliedByLlamaCppEqualsTheMergedModel(string model)
    {
        var anyDifferent = false;
        for (var p = 0; p < LlamaCppFixture.Prompts.Length; p++)
        {
            Assert.Equal(Generated($"{model}-merged-f32", p), Generated($"{model}-f32+lora", p));
            anyDifferent |= !Generated($"{model}-f32", p).SequenceEqual(Generated($"{model}-f32+lora", p));
        }
        Assert.True(anyDifferent, "the adapter should change at least one continuation");
    }

    [Theory]
    [InlineData("qwen-f16")]
    [InlineData("qwen-q8_0")]
    [InlineData("qwen-q4_0")]
    [InlineData("qwen-q4_k_m")]
    [InlineData("qwen256-q8_0")]
    [InlineData("qwen256-q4_k_m")]
    public void EveryTensorReadBackIsWithinItsTypesErrorBound(string key)
    {
        var model = key[..key.LastIndexOf('-')];
        using var reader = GgufReader.Open(f.Ggufs[key]);
        using var ckpt = Formats.Safetensors.SafetensorsCheckpoint.Open(f.HfFolders[model]);
        foreach (var t in reader.Tensors)
        {
            var hf = ckpt.Names.Single(n => GgufTensorNames.TryMap(n) == t.Name);
            var original = Gguf.HfTensorData.ReadFloat32(ckpt, hf);
            var err = QuantizationErrorBound.RelativeRmsError(original, reader.ReadTensorAsFloat32(t.Name));
            Assert.True(err <= QuantizationErrorBound.RelativeRms(t.Type), $"{key}: {t.Name} ({t.Type}) error {err:G3}");
        }
    }

    [Fact]
    public void Q4KMOfA256WideModelUsesLlamaCppsMix()
    {
        using var reader = GgufReader.Open(f.Ggufs["qwen256-q4_k_m"]);
        Assert.Equal(GgmlType.Q6_K, reader.Tensor("token_embd.weight").Type);     // tied: the embedding is the output
        Assert.False(reader.HasTensor("output.weight"));
        // n_layer = 3: use_more_bits(i, 3) holds only for i >= 7·3/8 = 2.
        Assert.Equal(GgmlType.Q4_K, reader.Tensor("blk.0.attn_v.weight").Type);
        Assert.Equal(GgmlType.Q4_K, reader.Tensor("blk.1.attn_v.weight").Type);
        Assert.Equal(GgmlType.Q6_K, reader.Tensor("blk.2.attn_v.weight").Type);
        Assert.Equal(GgmlType.Q6_K, reader.Tensor("blk.2.ffn_down.weight").Type);
        Assert.Equal(GgmlType.Q4_K, reader.Tensor("blk.1.attn_q.weight").Type);
        Assert.Equal(GgmlType.Q4_K, reader.Tensor("blk.1.ffn_down.weight").Type);
        Assert.Equal(GgmlType.F32, reader.Tensor("blk.1.attn_q.bias").Type);
        Assert.Equal((uint)LlamaFileType.MostlyQ4_K_M, reader.Get("general.file_type")!.AsUInt32());
        Assert.Equal(2u, reader.Get("general.quantization_version")!.AsUInt32());
    }

    [Fact]
    public void F16GenerationMatchesF32()
    {
        for (var p = 0; p < LlamaCppFixture.Prompts.Length; p++)
            Assert.Equal(Generated("qwen-f32", p), Generated("qwen-f16", p));
    }
}
