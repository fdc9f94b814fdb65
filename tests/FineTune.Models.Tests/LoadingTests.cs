using System.Text.Json.Nodes;
using FineTune.Formats.Safetensors;
using FineTune.Models;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models.Tests;

/// <summary>Loading Hugging Face folders: sharded or not, BF16 or F32, and what happens when a folder is broken.</summary>
public class LoadingTests
{
    [Fact]
    public void ShardedAndUnshardedCheckpointsGiveIdenticalLogits()
    {
        using var scope = NewDisposeScope();
        using var single = new TempDirectory();
        using var sharded = new TempDirectory();
        using var original = TinyDecoder.Create(TinyDecoder.ConfigJson("Qwen2ForCausalLM"));
        original.Save(single.Path);
        var files = original.Save(sharded.Path, maxShardBytes: 20_000);
        Assert.True(files.Count > 3, $"expected several shards, got {string.Join(", ", files)}");

        using var a = CausalLM.Load(single.Path);
        using var b = CausalLM.Load(sharded.Path);
        using var noGrad = no_grad();
        var ids = ModelKit.Ids([1, 5, 9, 13, 17]);

        var expected = original.forward(ids);
        Assert.True(expected.equal(a.forward(ids)).all().item<bool>());
        Assert.True(expected.equal(b.forward(ids)).all().item<bool>());
    }

    [Fact]
    public void BFloat16CheckpointLoadsIntoFloat32Exactly()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var original = TinyDecoder.Create(TinyDecoder.ConfigJson());
        original.Save(dir.Path, dtype: ScalarType.BFloat16);
        using (var ckpt = SafetensorsCheckpoint.Open(dir.Path))
            Assert.All(ckpt.Tensors, t => Assert.Equal(SafetensorDType.BF16, t.DType));
        Assert.Equal("bfloat16", ModelConfig.FromFolder(dir.Path).TorchDtype);

        using var loaded = CausalLM.Load(dir.Path);

        Assert.Equal(ScalarType.Float32, loaded.DType);
        var expected = original.state_dict();
        foreach (var (name, value) in loaded.state_dict())
        {
            Assert.Equal(ScalarType.Float32, value.dtype);
            Assert.True(expected[name].to_type(ScalarType.BFloat16).to_type(ScalarType.Float32).equal(value).all().item<bool>(), name);
        }
    }

    [Fact]
    public void ConfigRoundTripsThroughConfigJson()
    {
        using var dir = new TempDirectory();
        var json = TinyDecoder.ConfigJson("LlamaForCausalLM");
        json["rope_scaling"] = new JsonObject
        {
            ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
            ["original_max_position_embeddings"] = 8192,
        };
        json["eos_token_id"] = new JsonArray(128001, 128008, 128009);
        json["some_future_field"] = "kept";
        var config = TinyDecoder.Config(json);

        config.Save(dir.Path);
        var back = ModelConfig.FromFolder(dir.Path);

        Assert.Equal(config.RopeScaling, back.RopeScaling);
        Assert.Equal(new[] { 128001, 128008, 128009 }, back.EosTokenIds);
        Assert.Equal("kept", back.Raw!["some_future_field"]!.GetValue<string>());
        Assert.Equal(config with { Raw = null, EosTokenIds = [] }, back with { Raw = null, EosTokenIds = [] });
    }

    [Fact]
    public void UnsupportedArchitectureNamesTheSupportedOnes()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("config.json"), TinyDecoder.ConfigJson("GPTNeoXForCausalLM").ToJsonString());

        var e = Assert.Throws<NotSupportedException>(() => CausalLM.Load(dir.Path));

        Assert.Contains("config.json", e.Message);
        Assert.Contains("'GPTNeoXForCausalLM' is not supported (supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM)", e.Message);
    }

    [Theory]
    [InlineData("num_attention_heads", "\"eight\"", "field 'num_attention_heads': expected an integer")]
    [InlineData("num_key_value_heads", "3", "must be a positive multiple of num_key_value_heads (3)")]
    [InlineData("hidden_act", "\"gelu\"", "field 'hidden_act': 'gelu' is not supported")]
    public void InvalidConfigFieldsAreNamed(string field, string value, string problem)
    {
        var json = TinyDecoder.ConfigJson();
        json[field] = JsonNode.Parse(value);
        var e = Assert.ThrowsAny<Exception>(() => TinyDecoder.Config(json));
        Assert.Contains(problem, e.Message);
        Assert.StartsWith("test config.json", e.Message);
    }

    [Fact]
    public void UnknownRopeScalingTypeIsRejected()
    {
        var json = TinyDecoder.ConfigJson();
        json["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 2.0 };
        var e = Assert.Throws<NotSupportedException>(() => TinyDecoder.Config(json));
        Assert.Contains("'yarn' is not supported (supported: default, linear, dynamic, llama3, longrope)", e.Message);
    }

    [Fact]
    public void MissingMisshapedAndExtraTensorsAreNamed()
    {
        using var dir = new TempDirectory();
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson(layers: 1));
        model.Save(dir.Path);
        var weights = dir.File("model.safetensors");
        var state = model.state_dict();

        void Rewrite(Func<string, bool> keep, params (string Name, Tensor Tensor)[] extra) =>
            TensorIO.WriteCheckpoint(dir.Path, state.Where(kv => keep(kv.Key)).Select(kv => (kv.Key, kv.Value)).Concat(extra));

        Rewrite(k => k != "model.layers.0.mlp.up_proj.weight");
        var missing = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path));
        Assert.Contains(weights, missing.Message);
        Assert.Contains("missing 1 tensor(s)", missing.Message);
        Assert.Contains("model.layers.0.mlp.up_proj.weight", missing.Message);

        Rewrite(k => k != "model.norm.weight", ("model.norm.weight", zeros(7)));
        var shape = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path));
        Assert.Contains("tensor 'model.norm.weight' has shape [7] but config.json implies [32]", shape.Message);

        Rewrite(_ => true, ("model.layers.5.mlp.up_proj.weight", zeros(2)));
        var extra = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path));
        Assert.Contains("does not have: model.layers.5.mlp.up_proj.weight", extra.Message);
    }

    [Fact]
    public void TruncatedWeightFileIsReportedWithItsPath()
    {
        using var dir = new TempDirectory();
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson(layers: 1));
        model.Save(dir.Path);
        var weights = dir.File("model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 100)]);

        var e = Assert.Throws<SafetensorsFormatException>(() => CausalLM.Load(dir.Path));

        Assert.Equal(weights, e.FilePath);
        Assert.Contains("file truncated?", e.Message);
    }

    [Fact]
    public void FolderWithoutConfigSaysItIsNotAModelFolder()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => CausalLM.Load(dir.Path));
        Assert.Contains("config.json not found", e.Message);
    }
}
