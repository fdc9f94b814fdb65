using FineTune.Contracts.Optim;
using FineTune.Models;
using FineTune.Training.Lora;
using FineTune.Training.Merge;
using FineTune.Training.Peft;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Training.Tests;

/// <summary>The trainer on FineTune.Models' real decoder (tiny configs).</summary>
public class RealDecoderTests
{
    [Fact]
    public void PackedExamplesDoNotSeeEachOther()
    {
        var trainable = TinyModels.Llama(seed: 2);
        using var model = trainable.Model;
        var examples = TestData.Random(3, 64, seed: 4);
        using var _ = no_grad();
        using var packed = SftBatch.Collate([SftSequence.Pack(examples)], padId: 0);
        var packedHidden = trainable.ForwardHidden(packed.InputIds, packed.PositionIds, packed.SegmentIds)[0];   // (T, H)
        var offset = 0;
        foreach (var e in examples)
        {
            using var alone = SftBatch.Collate([SftSequence.FromExample(e)], padId: 0);
            var h = trainable.ForwardHidden(alone.InputIds, alone.PositionIds, alone.SegmentIds)[0];              // (t, H)
            var slice = packedHidden.narrow(0, offset, e.Length);
            Assert.True(slice.allclose(h, rtol: 0, atol: 1e-5), $"example at offset {offset} differs when packed");
            offset += e.Length;
        }
    }

    [Fact]
    public async Task OverfittingEightExamplesDrivesTheLossNearZero()
    {
        torch.manual_seed(7);
        var trainable = TinyModels.Llama(seed: 3);
        using var model = trainable.Model;
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 8, Alpha = 16, ModulesToSave = ["lm_head"] });
        var data = SftDataset.Build(TestData.Random(8, 64, seed: 12), new SftDataOptions { MaxSeqLen = 64 });
        var options = new TrainingOptions
        {
            MicroBatchSize = 4, GradientAccumulationSteps = 2, MaxSteps = 100, LearningRate = 1e-2, WarmupSteps = 5,
            LrScheduler = LrScheduleKind.Constant, Seed = 1,
        };
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU);
        var steps = new List<StepRecord>();
        await foreach (var e in trainer.RunAsync()) if (e is StepRecord s) steps.Add(s);

        Assert.True(steps[0].Loss > 3, $"initial loss {steps[0].Loss}");
        Assert.True(steps[^1].Loss < 0.05, $"final loss {steps[^1].Loss}; trajectory {string.Join(" ", steps.Where((_, i) => i % 10 == 0).Select(s => s.Loss.ToString("F3")))}");
    }

    [Fact]
    public void MergedModelGivesTheSameLogitsAsBasePlusAdapter()
    {
        using var dir = new TempDirectory("ft-merge");
        var ids = tensor(new long[] { 1, 5, 9, 13, 17, 21, 2 }, [1, 7]);
        Tensor expected;
        {
            var trainable = TinyModels.Llama(seed: 4, tie: true);
            using var model = trainable.Model;
            model.Save(dir.File("base"));
            File.WriteAllText(dir.File("base/tokenizer.json"), "{}");
            File.WriteAllText(dir.File("base/generation_config.json"), """{"eos_token_id": 2}""");
            torch.manual_seed(9);
            var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8, ModulesToSave = ["embed_tokens"] });
            using (no_grad())
            {
                foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_(0, 0.1);
                model.get_parameter("model.embed_tokens.weight")!.add_(0.05);
            }
            PeftAdapterFiles.Save(adapter, dir.File("adapter"), new PeftAdapterMetadata(dir.File("base")));
            using var _ = no_grad();
            expected = model.forward(ids);
        }

        var result = AdapterMerger.Merge(dir.File("base"), dir.File("adapter"), dir.File("merged"));
        Assert.Equal(14, result.MergedLayers);
        Assert.Equal(ScalarType.Float32, result.DType);
        Assert.True(File.Exists(dir.File("merged/tokenizer.json")));
        Assert.True(File.Exists(dir.File("merged/generation_config.json")));
        using var merged = CausalLM.Load(dir.File("merged"));
        Assert.DoesNotContain(merged.state_dict().Keys, k => k.Contains("lora") || k.Contains("base_layer"));
        using var __ = no_grad();
        var actual = merged.forward(ids);
        var diff = (actual - expected).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"max |diff| = {diff}");
    }

    [Fact]
    public void MergeKeepsTheBaseDtypeAndShards()
    {
        using var dir = new TempDirectory("ft-merge");
        var trainable = TinyModels.Llama(seed: 5);
        using var model = trainable.Model;
        model.Save(dir.File("base"), ScalarType.BFloat16);
        var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 2, Alpha = 4, TargetModules = ["q_proj", "v_proj"] });
        PeftAdapterFiles.Save(adapter, dir.File("adapter"), new PeftAdapterMetadata(null));

        var result = AdapterMerger.Merge(dir.File("base"), dir.File("adapter"), dir.File("merged"), maxShardBytes: 20_000);
        Assert.Equal(ScalarType.BFloat16, result.DType);
        Assert.True(result.WeightFiles.Count > 2);
        Assert.True(File.Exists(dir.File("merged/model.safetensors.index.json")));
        using var merged = CausalLM.Load(dir.File("merged"), dtype: ScalarType.Float32);
        Assert.Equal("bfloat16", ModelConfig.FromFolder(dir.File("merged")).TorchDtype);

        var e = Assert.Throws<IOException>(() => AdapterMerger.Merge(dir.File("base"), dir.File("adapter"), dir.File("merged")));
        Assert.Contains("not empty", e.Message);
    }
}
