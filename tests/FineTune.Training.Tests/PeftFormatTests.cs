using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Training.Lora;
using FineTune.Training.Peft;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

public class PeftFormatTests
{
    private static LoraAdapter TrainedLookingAdapter(ToyCausalLM model, LoraOptions options)
    {
        var adapter = LoraInjector.Inject(model, options);
        using (no_grad())
            foreach (var layer in adapter.Layers.Values) layer.LoraB.normal_();
        return adapter;
    }

    [Fact]
    public void SavedAdapterUsesPeftNamesShapesAndConfigFields()
    {
        using var dir = new TempDirectory("ft-peft");
        using var model = new ToyCausalLM(vocab: 32, hidden: 16, intermediate: 24);
        var adapter = TrainedLookingAdapter(model, new LoraOptions { Rank = 4, Alpha = 16, Dropout = 0.05, ModulesToSave = ["lm_head"] });
        PeftAdapterFiles.Save(adapter, dir.Path, new PeftAdapterMetadata("models/tiny-llama"));

        using var file = SafetensorsFile.Open(dir.File("adapter_model.safetensors"));
        var q = file.Get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        Assert.Equal(new long[] { 4, 16 }, q.Shape);
        Assert.Equal(SafetensorDType.F32, q.DType);
        Assert.Equal(new long[] { 24, 4 }, file.Get("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight").Shape);
        Assert.Equal(new long[] { 32, 16 }, file.Get("base_model.model.lm_head.weight").Shape);
        Assert.Equal(6 * 2 + 1, file.Tensors.Count);
        Assert.Equal("pt", file.Metadata["format"]);

        var config = JsonNode.Parse(File.ReadAllText(dir.File("adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", (string?)config["peft_type"]);
        Assert.Equal("CAUSAL_LM", (string?)config["task_type"]);
        Assert.Equal(4, (int)config["r"]!);
        Assert.Equal(16, (int)config["lora_alpha"]!);
        Assert.Equal(0.05, (double)config["lora_dropout"]!);
        Assert.Equal("none", (string?)config["bias"]);
        Assert.False((bool)config["use_rslora"]!);
        Assert.Equal("models/tiny-llama", (string?)config["base_model_name_or_path"]);
        Assert.Equal(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"], config["target_modules"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(["lm_head"], config["modules_to_save"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(config.Select(kv => kv.Key).Order(StringComparer.Ordinal), config.Select(kv => kv.Key)); // sorted like PEFT
    }

    [Fact]
    public void SaveThenLoadRoundTripsTensorsAndOutputs()
    {
        using var dir = new TempDirectory("ft-peft");
        var ids = tensor(new long[] { 3, 5, 7, 9, 11 }, [1, 5]);
        Tensor expected;
        using (var model = new ToyCausalLM(seed: 3))
        {
            var adapter = TrainedLookingAdapter(model, new LoraOptions { Rank = 2, Alpha = 4, UseRsLora = true, ModulesToSave = ["embed_tokens"] });
            using (no_grad()) model.get_parameter("model.embed_tokens.weight")!.add_(0.5);
            PeftAdapterFiles.Save(adapter, dir.Path, new PeftAdapterMetadata(null));
            using var _ = no_grad();
            expected = model.Logits(ids);
        }

        using var fresh = new ToyCausalLM(seed: 3);
        var loaded = PeftAdapterFiles.Load(fresh, dir.Path);
        Assert.True(loaded.Options.UseRsLora);
        Assert.Equal(2, loaded.Options.Rank);
        using var __ = no_grad();
        Assert.True(fresh.Logits(ids).allclose(expected, rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void LoadsAnAdapterWrittenElsewhereInHalfPrecisionWithMinimalConfig()
    {
        using var dir = new TempDirectory("ft-peft");
        File.WriteAllText(dir.File("adapter_config.json"), """{"peft_type": "LORA", "target_modules": ["q_proj"], "r": 2, "lora_alpha": 4}""");
        var writer = new SafetensorsWriter();
        var a = randn(2, 16).to(ScalarType.BFloat16);
        var b = randn(16, 2).to(ScalarType.BFloat16);
        writer.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", SafetensorDType.BF16, [2, 16], a.bytes.ToArray());
        writer.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", SafetensorDType.BF16, [16, 2], b.bytes.ToArray());
        writer.WriteFile(dir.File("adapter_model.safetensors"));

        using var model = new ToyCausalLM();
        var adapter = PeftAdapterFiles.Load(model, dir.Path);
        var layer = adapter.Layers["model.layers.0.self_attn.q_proj"];
        Assert.Equal(2.0, layer.Scaling);
        Assert.True(layer.LoraA.eq(a.to(ScalarType.Float32)).all().item<bool>());
        Assert.True(layer.LoraB.eq(b.to(ScalarType.Float32)).all().item<bool>());
    }

    [Fact]
    public void UnsupportedFeaturesAndMismatchesAreRejectedByName()
    {
        using var dir = new TempDirectory("ft-peft");
        File.WriteAllText(dir.File("adapter_config.json"), """{"peft_type": "LORA", "target_modules": ["q_proj"], "use_dora": true}""");
        var e = Assert.Throws<InvalidDataException>(() => PeftAdapterFiles.ReadConfig(dir.Path));
        Assert.Contains("use_dora", e.Message);

        File.WriteAllText(dir.File("adapter_config.json"), """{"peft_type": "LORA", "target_modules": ["q_proj"], "r": 4}""");
        var writer = new SafetensorsWriter();
        writer.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", SafetensorDType.F32, [2, 16], new byte[2 * 16 * 4]);
        writer.Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", SafetensorDType.F32, [16, 2], new byte[2 * 16 * 4]);
        writer.WriteFile(dir.File("adapter_model.safetensors"));
        using var model = new ToyCausalLM();
        var shape = Assert.Throws<InvalidDataException>(() => PeftAdapterFiles.Load(model, dir.Path));
        Assert.Contains("q_proj.lora_A.weight", shape.Message);
        Assert.Contains("shape", shape.Message);
    }
}
