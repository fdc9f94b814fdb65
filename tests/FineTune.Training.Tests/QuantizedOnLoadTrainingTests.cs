using FineTune.Contracts.Optim;
using FineTune.Contracts.Quantization;
using FineTune.Models;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>LoRA over a base quantized on load: its QuantizedLinears are wrapped as they are, and training still learns.</summary>
public class QuantizedOnLoadTrainingTests
{
    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public async Task LoraOverABaseQuantizedOnLoadWrapsItsLayersAndLearns(QuantizationKind kind)
    {
        using var dir = new TempDirectory("ft-qload");
        using (var original = TinyModels.Llama(seed: 3).Model) original.Save(dir.Path, ScalarType.BFloat16);
        var quantization = new BaseQuantization { Kind = kind };
        using var model = CausalLM.Load(dir.Path, quantization);
        var loaded = model.LinearModulePaths.ToDictionary(p => p, p => model.GetLinear(p));

        torch.manual_seed(7);
        var adapter = LoraInjector.Inject(new CausalLMTrainable(model), new LoraOptions
        {
            Rank = 8, Alpha = 16, TargetModules = ["q_proj", "v_proj", "down_proj"], Quantization = quantization,
        });

        foreach (var path in model.LinearModulePaths)
        {
            var now = model.GetLinear(path);
            Assert.Same(loaded[path], now is LoraLinear lora ? lora.BaseLayer : now);   // not quantized a second time
        }
        Assert.Equal(6, adapter.Layers.Count);
        var steps = await ShortRun.TrainAsync(adapter);
        Assert.True(steps[^1].Loss < steps[0].Loss * 0.5, $"{kind}: loss {steps[0].Loss:F3} → {steps[^1].Loss:F3}");
    }

    [Fact]
    public void ABaseQuantizedOtherwiseThanTheAdapterIsRefused()
    {
        using var dir = new TempDirectory("ft-qload");
        using (var original = TinyModels.Llama(seed: 3).Model) original.Save(dir.Path);
        using var model = CausalLM.Load(dir.Path, new BaseQuantization { Kind = QuantizationKind.Nf4 });

        var e = Assert.Throws<InvalidOperationException>(() => LoraInjector.Inject(new CausalLMTrainable(model),
            new LoraOptions { Rank = 4, Alpha = 8, Quantization = new BaseQuantization { Kind = QuantizationKind.Int8 } }));
        Assert.Contains("was loaded quantized as nf4", e.Message);
        Assert.Contains("lora.quantization is int8", e.Message);
    }
}
