using FineTune.Contracts.Jobs;
using FineTune.Contracts.Optim;
using FineTune.Contracts.Quantization;
using FineTune.Models;
using FineTune.Models.Quantization;
using FineTune.Training.Jobs;
using FineTune.Training.Lora;
using FineTune.Training.Merge;
using FineTune.Training.Peft;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>QLoRA (NF4 base) and the int8 base: training, the adapter files, and the merge that dequantizes once.</summary>
public class QuantizedBaseTests
{
    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public async Task LoraOverAQuantizedBaseLearnsAndOnlyTheAdapterTrains(QuantizationKind kind)
    {
        torch.manual_seed(7);
        var trainable = TinyModels.Llama(seed: 3);
        using var model = trainable.Model;
        var adapter = LoraInjector.Inject(trainable, new LoraOptions
        {
            Rank = 8, Alpha = 16, TargetModules = [LoraOptions.AllLinear], Quantization = new BaseQuantization { Kind = kind },
        });
        Assert.All(model.LinearModulePaths, p => Assert.IsType<QuantizedLinear>(((LoraLinear)model.GetLinear(p)).BaseLayer));
        Assert.All(model.parameters().Where(p => p.requires_grad), p => Assert.Contains(p, adapter.Layers.Values.SelectMany(l => new[] { l.LoraA, l.LoraB })));

        var steps = await ShortRun.TrainAsync(adapter);

        Assert.True(steps[^1].Loss < steps[0].Loss * 0.5, $"{kind}: loss {steps[0].Loss:F3} → {steps[^1].Loss:F3}");
    }

    [Theory]
    [InlineData(QuantizationKind.Nf4, true)]
    [InlineData(QuantizationKind.Nf4, false)]
    [InlineData(QuantizationKind.Int8, false)]
    public void MergeRebuildsTheQuantizedBaseSoTheMergedModelEqualsWhatTrained(QuantizationKind kind, bool doubleQuant)
    {
        using var dir = new TempDirectory("ft-qmerge");
        var ids = tensor(new long[] { 1, 5, 9, 13, 17, 21, 2 }, [1, 7]);
        var quantization = new BaseQuantization { Kind = kind, DoubleQuant = doubleQuant };
        Tensor expected;
        {
            var trainable = TinyModels.Llama(seed: 4);
            using var model = trainable.Model;
            model.Save(dir.File("base"));
            torch.manual_seed(9);
            var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8, TargetModules = ["q_proj", "down_proj"], Quantization = quantization });
            using (no_grad())
                foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_(0, 0.1);
            PeftAdapterFiles.Save(adapter, dir.File("adapter"), new PeftAdapterMetadata(dir.File("base")));
            using var _ = no_grad();
            expected = model.forward(ids);
        }
        Assert.Equal(quantization, BaseQuantizationFile.Read(dir.File("adapter")));

        AdapterMerger.Merge(dir.File("base"), dir.File("adapter"), dir.File("merged"));

        using var merged = CausalLM.Load(dir.File("merged"));
        using var __ = no_grad();
        var diff = (merged.forward(ids) - expected).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"max |diff| = {diff}");
        using var original = CausalLM.Load(dir.File("base"));
        var unquantizedDiff = (original.forward(ids) - expected).abs().max().item<float>();
        Assert.True(unquantizedDiff > 1e-4, "the quantized base should differ measurably from the original");
    }

    [Fact]
    public void AFullPrecisionAdapterHasNoQuantizationFile()
    {
        using var dir = new TempDirectory("ft-qfile");
        var trainable = TinyModels.Llama(seed: 5);
        using var model = trainable.Model;
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 2, Alpha = 4 });
        PeftAdapterFiles.Save(adapter, dir.File("adapter"), new PeftAdapterMetadata(null));
        Assert.False(File.Exists(dir.File("adapter/" + BaseQuantizationFile.FileName)));
        Assert.Equal(BaseQuantization.None, PeftAdapterFiles.ReadConfig(dir.File("adapter")).Options.Quantization);
    }

    [Fact]
    public void JobFilesNameAnUnknownQuantization()
    {
        var job = new TrainingJob { Model = "m", Data = "d" };
        job.Lora.Quantization = "fp4";
        job.Lora.ComputeDtype = "float8";
        var errors = TrainingJobFile.Validate(job);
        Assert.Contains(errors, e => e.StartsWith("lora.quantization must be none, nf4 or int8 (got fp4)"));
        Assert.Contains(errors, e => e.StartsWith("lora.compute_dtype must be float32, bfloat16 or float16 (got float8)"));
        job.Lora.Quantization = "nf4";
        job.Lora.ComputeDtype = "bfloat16";
        Assert.Equal(new BaseQuantization { Kind = QuantizationKind.Nf4, ComputeDType = ScalarType.BFloat16 }, job.Lora.ToOptions().Quantization);
    }
}
