using System.Text.Json.Nodes;
using FineTune.Models.Tiny;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models.Tests;

/// <summary>
/// Every family in its Hugging Face layout (the product's tiny models): checkpoint keys, the KV cache, sliding layers,
/// backward, and reloading from F16/BF16 shards. llama.cpp judges the numerics token for token in FineTune.Export.Tests.
/// </summary>
public class FamilyTests
{
    public static TheoryData<string> Families => [.. TinyFamily.Names];

    private static (TempDirectory Dir, string Folder) Write(string family, long seed = 5)
    {
        var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, family);
        TinyModel.Write(folder, seed, TinyModelPreset.Nano, family: family, init: TinyModel.TinyInit.Judge);
        return (dir, folder);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void CachedStepByStepLogitsEqualOneFullForwardOnAPromptLongerThanTheSlidingWindow(string family)
    {
        var (dir, folder) = Write(family);
        using var _ = dir;
        using var model = CausalLM.Load(folder);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tokens = ModelKit.RandomTokens(TinyFamily.GemmaSlidingWindow + 12, model.Config.VocabSize, 3);

        var full = model.forward(ModelKit.Ids(tokens));

        using var cache = new KVCache(model.Config, 1, tokens.Length);
        var steps = new List<Tensor> { model.forward(ModelKit.Ids(tokens[..5]), cache: cache) };
        for (var i = 5; i < tokens.Length; i++) steps.Add(model.forward(ModelKit.Ids([tokens[i]]), cache: cache));
        ModelKit.AssertClose(full, cat(steps, 1), atol: 1e-4);
    }

    [Fact]
    public void Gemma3HasSandwichNormsQkNormsAndTiedHeadUnderCheckpointNames()
    {
        var (dir, folder) = Write("gemma3");
        using var _ = dir;
        using var model = CausalLM.Load(folder);
        var keys = model.state_dict().Keys.Where(k => k.StartsWith("model.layers.0.", StringComparison.Ordinal))
            .Select(k => k["model.layers.0.".Length..]).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[]
        {
            "input_layernorm.weight", "mlp.down_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
            "post_attention_layernorm.weight", "post_feedforward_layernorm.weight", "pre_feedforward_layernorm.weight",
            "self_attn.k_norm.weight", "self_attn.k_proj.weight", "self_attn.o_proj.weight", "self_attn.q_norm.weight",
            "self_attn.q_proj.weight", "self_attn.v_proj.weight",
        }, keys);
        Assert.DoesNotContain("lm_head.weight", model.state_dict().Keys);
        Assert.Equal([true, false], model.Config.SlidingLayers);
        Assert.Equal(10000, model.Config.RopeLocalTheta);
        Assert.Equal(30, model.Config.FinalLogitSoftcapping);
    }

    [Fact]
    public void Gemma3SlidingLayerSeesOnlyTheWindowAndFullLayerSeesEverything()
    {
        using var scope = NewDisposeScope();
        var json = GemmaJson(["sliding_attention"]);
        using var sliding = new CausalLM(ModelConfig.Parse(json, "test"));
        sliding.InitializeWeights(2, 0.2, normStd: 0.1);
        json["layer_types"] = new JsonArray("full_attention");
        json["rope_theta"] = 10000.0; // the local base, so the window is the only difference
        using var fullModel = new CausalLM(ModelConfig.Parse(json, "test"));
        fullModel.load_state_dict(sliding.state_dict());
        using var noGrad = no_grad();
        var tokens = ModelKit.RandomTokens(8, 64, 5);

        var full = sliding.forward(ModelKit.Ids(tokens));

        // window 3: the last token sees tokens 5..7 only, so running those alone at their positions gives its logits.
        var window = sliding.forward(ModelKit.Ids(tokens[5..]), positionIds: ModelKit.Ids([5, 6, 7]));
        ModelKit.AssertClose(window.narrow(1, 2, 1), full.narrow(1, 7, 1));
        var unwindowed = fullModel.forward(ModelKit.Ids(tokens));
        Assert.True((unwindowed.narrow(1, 7, 1) - full.narrow(1, 7, 1)).abs().max().item<float>() > 1e-3);
        ModelKit.AssertClose(unwindowed.narrow(1, 0, 3), full.narrow(1, 0, 3));
    }

    [Fact]
    public void Gemma3DefaultLayerPatternMakesEverySixthLayerFull()
    {
        var json = GemmaJson(null, layers: 12);
        json.Remove("layer_types");
        var config = ModelConfig.Parse(json, "test");
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i % 6 != 5), config.SlidingLayers!);
        json["layer_types"] = new JsonArray("sliding_attention", "everything");
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.Parse(json, "cfg.json"));
        Assert.Contains("layer_types", e.Message);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void BackwardReachesEveryWeightWithFiniteGradients(string family)
    {
        var (dir, folder) = Write(family);
        using var _ = dir;
        using var model = CausalLM.Load(folder);
        using var scope = NewDisposeScope();
        model.train();
        var tokens = ModelKit.RandomTokens(20, model.Config.VocabSize, 4);

        var logits = model.forward(ModelKit.Ids(tokens));
        var loss = nn.functional.cross_entropy(logits.narrow(1, 0, 19).reshape(-1, logits.shape[2]), ModelKit.Ids(tokens[1..]).reshape(-1));
        loss.backward();

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            Assert.True(p.grad!.isfinite().all().item<bool>() && p.grad.abs().sum().item<float>() > 0, $"{name}: gradient is zero or not finite");
        }
    }

    [Fact]
    public void Phi3ProjectionsAreFusedUnderThePeftNames()
    {
        var (dir, folder) = Write("phi3");
        using var _ = dir;
        using var model = CausalLM.Load(folder);
        Assert.Equal(["model.layers.0.self_attn.qkv_proj", "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.gate_up_proj", "model.layers.0.mlp.down_proj"],
            model.LinearModulePaths.Take(4));
        var c = model.Config;
        Assert.Equal(new long[] { (c.NumAttentionHeads + 2 * c.NumKeyValueHeads) * c.HeadDim, c.HiddenSize },
            model.state_dict()["model.layers.0.self_attn.qkv_proj.weight"].shape);
        Assert.Equal(new long[] { 2 * c.IntermediateSize, c.HiddenSize }, model.state_dict()["model.layers.0.mlp.gate_up_proj.weight"].shape);
        Assert.Equal("longrope", c.RopeScaling!.Type);
        Assert.Equal(Math.Sqrt(1 + Math.Log(4) / Math.Log(4096)), Rope.AttentionFactor(c), 12);
    }

    [Fact]
    public void LongRopeUsesShortFactorsWithinTheTrainedContextAndLongBeyond()
    {
        var (dir, folder) = Write("phi3");
        using var _ = dir;
        var c = ModelConfig.FromFolder(folder);
        var plain = Rope.InverseFrequencies(c with { RopeScaling = null });
        var shortInv = Rope.InverseFrequencies(c, 100);
        var longInv = Rope.InverseFrequencies(c, 5000);
        for (var i = 0; i < plain.Length; i++)
        {
            Assert.Equal(plain[i] / c.RopeScaling!.ShortFactor![i], shortInv[i], 12);
            Assert.Equal(plain[i] / c.RopeScaling.LongFactor![i], longInv[i], 12);
        }
    }

    [Theory]
    [InlineData("gemma3", ScalarType.BFloat16)]
    [InlineData("qwen3", ScalarType.Float16)]
    [InlineData("phi3", ScalarType.BFloat16)]
    public void ReloadsFromHalfPrecisionShardsWithTheIndex(string family, ScalarType dtype)
    {
        var (dir, folder) = Write(family);
        using var _ = dir;
        using var model = CausalLM.Load(folder);
        var sharded = Path.Combine(dir.Path, "sharded");
        var files = model.Save(sharded, dtype, maxShardBytes: 40_000);
        Assert.True(files.Count > 2, string.Join(", ", files));
        Assert.True(File.Exists(Path.Combine(sharded, "model.safetensors.index.json")));

        using var reloaded = CausalLM.Load(sharded, dtype: ScalarType.Float32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = ModelKit.Ids(ModelKit.RandomTokens(10, model.Config.VocabSize, 9));
        ModelKit.AssertClose(model.forward(ids), reloaded.forward(ids), atol: 0.5);
        Assert.Equal(model.forward(ids).argmax(-1).data<long>().ToArray(), reloaded.forward(ids).argmax(-1).data<long>().ToArray());
    }

    [Theory]
    [InlineData("gemma3_text", "gemma")]
    [InlineData("gemma3", "gemma")]
    [InlineData("qwen3", "chatml")]
    [InlineData("phi3", "phi3")]
    public void AFolderWithoutATemplateGetsItsFamilysChatFormat(string modelType, string family)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), new JsonObject { ["model_type"] = modelType }.ToJsonString());
        Assert.Equal(family, FineTune.Models.Core.ChatTemplates.BuiltInTemplates.DetectFamily(dir.Path));
    }

    private static JsonObject GemmaJson(string[]? layerTypes, int layers = 1) => new()
    {
        ["architectures"] = new JsonArray("Gemma3ForCausalLM"),
        ["vocab_size"] = 64, ["hidden_size"] = 32, ["intermediate_size"] = 64, ["num_hidden_layers"] = layerTypes?.Length ?? layers,
        ["num_attention_heads"] = 4, ["num_key_value_heads"] = 1, ["head_dim"] = 16, ["query_pre_attn_scalar"] = 12,
        ["sliding_window"] = 3, ["layer_types"] = layerTypes is null ? null : new JsonArray([.. layerTypes.Select(t => (JsonNode)t)]),
        ["rope_theta"] = 1000000.0, ["rope_local_base_freq"] = 10000.0, ["max_position_embeddings"] = 128,
    };
}
