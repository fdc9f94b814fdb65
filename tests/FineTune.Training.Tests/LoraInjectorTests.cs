using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;

namespace FineTune.Training.Tests;

public class LoraInjectorTests
{
    [Fact]
    public void DefaultTargetsWrapEveryAttentionAndMlpProjectionPresent()
    {
        using var model = new ToyCausalLM();
        var adapter = LoraInjector.Inject(model, new LoraOptions { Rank = 2, Alpha = 4 });
        Assert.Equal(
            ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.self_attn.o_proj",
             "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj", "model.layers.0.mlp.down_proj"],
            adapter.Layers.Keys);
        Assert.Contains("model.layers.0.self_attn.q_proj.lora_A.weight", model.state_dict().Keys);
        Assert.Contains("model.layers.0.self_attn.q_proj.base_layer.weight", model.state_dict().Keys);
    }

    [Fact]
    public void NamedTargetsSelectOnlyThoseModules()
    {
        using var model = new ToyCausalLM();
        var adapter = LoraInjector.Inject(model, new LoraOptions { TargetModules = ["q_proj", "v_proj"] });
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"], adapter.Layers.Keys);
    }

    [Fact]
    public void AllLinearSelectsEveryLinearButTheHead()
    {
        using var model = new ToyCausalLM();
        var adapter = LoraInjector.Inject(model, new LoraOptions { TargetModules = [LoraOptions.AllLinear] });
        Assert.Equal(6, adapter.Layers.Count);
        Assert.DoesNotContain(adapter.Layers.Keys, k => k.Contains("lm_head"));
    }

    [Fact]
    public void UnknownTargetIsRejectedByName()
    {
        using var model = new ToyCausalLM();
        var e = Assert.Throws<ArgumentException>(() => LoraInjector.Inject(model, new LoraOptions { TargetModules = ["qkv_proj"] }));
        Assert.Contains("qkv_proj", e.Message);
    }

    [Fact]
    public void OnlyLoraWeightsAndModulesToSaveAreTrainableAndCounted()
    {
        using var model = new ToyCausalLM(vocab: 32, hidden: 16, intermediate: 24);
        var total = model.parameters().Sum(p => p.numel());
        var adapter = LoraInjector.Inject(model, new LoraOptions { Rank = 2, ModulesToSave = ["lm_head"] });

        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        Assert.Contains("lm_head.weight", trainable);
        Assert.DoesNotContain("model.embed_tokens.weight", trainable);
        Assert.DoesNotContain(trainable, n => n.Contains("base_layer"));

        // 3 attention (16→16) + gate/up (16→24) + down (24→16), rank 2: r·(in+out) each
        long lora = 3 * 2 * (16 + 16) + 2 * 2 * (16 + 24) + 2 * (24 + 16);
        var count = adapter.CountParameters();
        Assert.Equal(lora + 32 * 16, count.Trainable);
        Assert.Equal(total + lora, count.Total);
        Assert.Contains("trainable params:", count.ToString());
        Assert.Equal(adapter.NamedTrainableParameters.Count, adapter.StateDict().Count);
        Assert.Contains("base_model.model.lm_head.weight", adapter.StateDict().Keys);
    }

    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public void AQuantizedBaseCountsTheWeightsItsCodesStandFor(QuantizationKind kind)
    {
        using var plain = new ToyCausalLM(vocab: 32, hidden: 64, intermediate: 128);
        using var quantized = new ToyCausalLM(vocab: 32, hidden: 64, intermediate: 128);
        var options = new LoraOptions { Rank = 2, TargetModules = ["q_proj"] };

        var expected = LoraInjector.Inject(plain, options).CountParameters();
        var count = LoraInjector.Inject(quantized, options with { Quantization = new BaseQuantization { Kind = kind } }).CountParameters();

        Assert.Equal(expected, count);
    }
}

