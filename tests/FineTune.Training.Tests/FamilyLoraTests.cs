using FineTune.Contracts.Optim;
using FineTune.Models;
using FineTune.Models.Tiny;
using FineTune.Training.Lora;
using FineTune.Training.Merge;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>LoRA on the families beyond Llama: default targets under PEFT's names, training, PEFT files and merge.</summary>
public class FamilyLoraTests
{
    [Theory]
    [InlineData("llama", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("qwen2", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("mistral", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("gemma3", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("qwen3", new[] { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" })]
    [InlineData("phi3", new[] { "qkv_proj", "o_proj", "gate_up_proj", "down_proj" })]
    public void DefaultTargetsAreEveryProjectionAndTheMergedModelEqualsBasePlusAdapter(string family, string[] projections)
    {
        using var dir = new TempDirectory("ft-family-lora");
        TinyModel.Write(dir.File("base"), 3, TinyModelPreset.Nano, family: family, init: TinyModel.TinyInit.Judge);
        var ids = tensor(new long[] { 1, 5, 9, 13, 17, 21, 2 }, [1, 7]);
        Tensor expected;
        using (var model = CausalLM.Load(dir.File("base")))
        {
            var trainable = new CausalLMTrainable(model);
            torch.manual_seed(9);
            var adapter = LoraInjector.Inject(trainable, new LoraOptions { Rank = 4, Alpha = 8 });
            Assert.Equal(projections.Select(p => $"model.layers.0.{(p is "gate_proj" or "up_proj" or "down_proj" or "gate_up_proj" ? "mlp" : "self_attn")}.{p}"),
                adapter.Layers.Keys.Where(k => k.StartsWith("model.layers.0.", StringComparison.Ordinal)));
            using (no_grad())
                foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_(0, 0.1);
            PeftAdapterFiles.Save(adapter, dir.File("adapter"), new PeftAdapterMetadata(dir.File("base")));
            var written = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir.File("adapter/adapter_config.json")))!["target_modules"]!.AsArray();
            Assert.Equal(projections.Order(StringComparer.Ordinal), written.Select(n => (string)n!));
            using var _ = no_grad();
            expected = model.forward(ids);
        }

        AdapterMerger.Merge(dir.File("base"), dir.File("adapter"), dir.File("merged"));

        using var merged = CausalLM.Load(dir.File("merged"));
        Assert.Equal(family == "phi3", merged.state_dict().ContainsKey("model.layers.0.self_attn.qkv_proj.weight"));
        using var __ = no_grad();
        var diff = (merged.forward(ids) - expected).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"max |diff| = {diff}");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("mistral")]
    [InlineData("gemma3")]
    [InlineData("qwen3")]
    [InlineData("phi3")]
    public async Task LoraTrainingLowersTheLoss(string family)
    {
        using var dir = new TempDirectory("ft-family-train");
        TinyModel.Write(dir.File("base"), 4, TinyModelPreset.Nano, family: family);
        using var model = CausalLM.Load(dir.File("base"));
        torch.manual_seed(7);
        var adapter = LoraInjector.Inject(new CausalLMTrainable(model), new LoraOptions { Rank = 8, Alpha = 16 });
        var data = SftDataset.Build(TestData.Random(4, model.Config.VocabSize, seed: 12), new SftDataOptions { MaxSeqLen = 64 });
        var options = new TrainingOptions
        {
            MicroBatchSize = 4, GradientAccumulationSteps = 1, MaxSteps = 30, LearningRate = 1e-2, WarmupSteps = 2,
            LrScheduler = LrScheduleKind.Constant, Seed = 1,
        };
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU);
        var steps = new List<StepRecord>();
        await foreach (var e in trainer.RunAsync()) if (e is StepRecord s) steps.Add(s);

        // From chance level (ln 672 ≈ 6.5 nats) a working LoRA step sheds over a nat within 30 steps on 4 examples.
        Assert.True(steps[^1].Loss < steps[0].Loss - 0.8, $"{family}: loss {steps[0].Loss:F3} → {steps[^1].Loss:F3}");
    }
}
