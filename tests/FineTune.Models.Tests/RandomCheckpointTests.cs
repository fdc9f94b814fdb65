using FineTune.Formats.Safetensors;
using static TorchSharp.torch;
using FineTune.Models.Core;
using FineTune.Models.Tiny;

namespace FineTune.Models.Tests;

/// <summary>`ft init --config`: a random checkpoint for a config.json, streamed tensor by tensor.</summary>
public class RandomCheckpointTests
{
    [Fact]
    public void TheCheckpointLoadsWithTheConfigsShapesDtypeAndShards()
    {
        using var dir = new TempDirectory("ft-random");
        File.WriteAllText(dir.File("config.json"), TinyDecoder.ConfigJson(layers: 3, hidden: 64, vocab: 128, tie: false, maxPositions: 128).ToJsonString());
        var config = ModelConfig.FromFolder(dir.Path);

        var files = RandomCheckpoint.Write(config, dir.File("out"), ScalarType.BFloat16, seed: 4, maxShardBytes: 60_000);

        Assert.True(files.Count > 2);
        Assert.EndsWith("model.safetensors.index.json", files[^1]);
        using var checkpoint = SafetensorsCheckpoint.Open(dir.File("out"));
        Assert.Equal(RandomCheckpoint.Bytes(config, ScalarType.BFloat16), checkpoint.Tensors.Sum(t => t.ByteLength));
        Assert.All(checkpoint.Tensors, t => Assert.Equal(SafetensorDType.BF16, t.DType));
        Assert.Equal("bfloat16", ModelConfig.FromFolder(dir.File("out")).TorchDtype);
        using var model = CausalLM.Load(dir.File("out"), dtype: ScalarType.Float32);
        var norm = model.get_parameter("model.norm.weight")!;
        Assert.True(norm.eq(1).all().item<bool>());
        var q = model.get_parameter("model.layers.0.self_attn.q_proj.weight")!;
        Assert.InRange(q.std().item<float>(), 0.015f, 0.025f);
    }

    [Fact]
    public void TheSameSeedWritesTheSameBytes()
    {
        using var dir = new TempDirectory("ft-random");
        File.WriteAllText(dir.File("config.json"), TinyDecoder.ConfigJson(layers: 1, hidden: 32, vocab: 64, tie: true, maxPositions: 64).ToJsonString());
        var config = ModelConfig.FromFolder(dir.Path);
        RandomCheckpoint.Write(config, dir.File("a"), ScalarType.Float32, seed: 1);
        RandomCheckpoint.Write(config, dir.File("b"), ScalarType.Float32, seed: 1);
        RandomCheckpoint.Write(config, dir.File("c"), ScalarType.Float32, seed: 2);
        var a = File.ReadAllBytes(dir.File("a/model.safetensors"));
        Assert.Equal(a, File.ReadAllBytes(dir.File("b/model.safetensors")));
        Assert.NotEqual(a, File.ReadAllBytes(dir.File("c/model.safetensors")));
    }

    [Fact]
    public void GemmaNormsStartAtZeroBecauseGemmaScalesByOnePlusTheWeight()
    {
        using var dir = new TempDirectory("ft-random");
        TinyModel.Write(dir.File("gemma"), 5, TinyModelPreset.Nano, family: "gemma3");
        var config = ModelConfig.FromFolder(dir.File("gemma"));
        Assert.True(config.Gemma);

        RandomCheckpoint.Write(config, dir.File("out"), ScalarType.Float32, seed: 3);

        using var model = CausalLM.Load(dir.File("out"), dtype: ScalarType.Float32);
        var norms = model.named_parameters().Where(p => p.name.EndsWith("norm.weight", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(norms);
        Assert.All(norms, p => Assert.True(p.parameter.eq(0).all().item<bool>(), $"{p.name} is not all 0"));
    }
}
