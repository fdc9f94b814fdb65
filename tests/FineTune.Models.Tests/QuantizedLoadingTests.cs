using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models.Tests;

/// <summary>
/// Quantize-on-load (<see cref="CausalLM.Load(string, BaseQuantization, Device?, ScalarType?)"/>): the same codes, scales
/// and logits as loading at full precision and quantizing after, no full-precision projection left, and Load's errors.
/// </summary>
public class QuantizedLoadingTests
{
    [Theory]
    [InlineData(QuantizationKind.Nf4, true, ScalarType.BFloat16, false)]
    [InlineData(QuantizationKind.Nf4, false, ScalarType.BFloat16, false)]
    [InlineData(QuantizationKind.Nf4, true, ScalarType.Float32, true)]
    [InlineData(QuantizationKind.Nf4, false, ScalarType.Float32, false)]
    [InlineData(QuantizationKind.Int8, false, ScalarType.BFloat16, true)]
    [InlineData(QuantizationKind.Int8, false, ScalarType.Float32, false)]
    public void QuantizingOnLoadEqualsLoadingThenQuantizing(QuantizationKind kind, bool doubleQuant, ScalarType stored, bool sharded)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using (var original = TinyDecoder.Create(TinyDecoder.ConfigJson("Qwen2ForCausalLM")))   // Qwen2: q/k/v biases too
        {
            var files = original.Save(dir.Path, stored, maxShardBytes: sharded ? 20_000 : long.MaxValue);
            Assert.Equal(sharded, files.Count > 1);
        }
        var quantization = new BaseQuantization { Kind = kind, DoubleQuant = doubleQuant };

        using var reference = CausalLM.Load(dir.Path);
        foreach (var path in reference.LinearModulePaths) reference.ReplaceLinear(path, linear => QuantizeAndDispose(linear, quantization));
        using var loaded = CausalLM.Load(dir.Path, quantization);

        foreach (var path in reference.LinearModulePaths)
            AssertSameStorage(path, (QuantizedLinear)reference.GetLinear(path), Assert.IsType<QuantizedLinear>(loaded.GetLinear(path)));
        using var noGrad = no_grad();
        var ids = ModelKit.Ids([1, 5, 9, 13, 17, 21]);
        Assert.True(reference.forward(ids).equal(loaded.forward(ids)).all().item<bool>());
    }

    [Theory]
    [InlineData(QuantizationKind.Nf4)]
    [InlineData(QuantizationKind.Int8)]
    public void AModelLoadedQuantizedHoldsNoFullPrecisionProjection(QuantizationKind kind)
    {
        using var dir = new TempDirectory();
        var json = TinyDecoder.ConfigJson();
        using (var original = TinyDecoder.Create(json)) original.Save(dir.Path, ScalarType.BFloat16);

        using var model = CausalLM.Load(dir.Path, new BaseQuantization { Kind = kind });

        Assert.All(model.LinearModulePaths, p => Assert.IsType<QuantizedLinear>(model.GetLinear(p)));
        var parameters = model.named_parameters().ToList();
        Assert.All(parameters, p => Assert.DoesNotContain("_proj", p.name));
        Assert.All(parameters, p => Assert.Equal(DeviceType.CPU, p.parameter.device_type));   // nothing left on "meta"
        Assert.All(parameters, p => Assert.Equal(ScalarType.Float32, p.parameter.dtype));
        var c = TinyDecoder.Config(json);
        long norms = (2L * c.NumHiddenLayers + 1) * c.HiddenSize;
        Assert.Equal(2L * c.VocabSize * c.HiddenSize + norms, parameters.Sum(p => p.parameter.numel()));   // embed, lm_head, norms
        var projections = model.LinearModulePaths.Select(p => (QuantizedLinear)model.GetLinear(p)).ToList();
        var weights = projections.Sum(q => q.InFeatures * q.OutFeatures);
        // int8: 1 byte + a 4-byte scale per row of 32 (1.125); NF4: ~0.56. Full precision would be 4.
        Assert.True(projections.Sum(q => q.StorageBytes) <= weights * 1.125, "quantized storage is at most 1.125 bytes per weight");
    }

    [Fact]
    public void MissingAndMisshapedProjectionsGiveLoadsErrors()
    {
        using var dir = new TempDirectory();
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson(layers: 1));
        model.Save(dir.Path);
        var state = model.state_dict();
        var nf4 = new BaseQuantization { Kind = QuantizationKind.Nf4 };
        void Rewrite(Func<string, bool> keep, params (string Name, Tensor Tensor)[] extra) =>
            TensorIO.WriteCheckpoint(dir.Path, state.Where(kv => keep(kv.Key)).Select(kv => (kv.Key, kv.Value)).Concat(extra));

        Rewrite(k => k != "model.layers.0.mlp.up_proj.weight");
        var missing = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path, nf4));
        Assert.Contains("missing 1 tensor(s)", missing.Message);
        Assert.Contains("model.layers.0.mlp.up_proj.weight", missing.Message);

        Rewrite(k => k != "model.layers.0.self_attn.q_proj.weight", ("model.layers.0.self_attn.q_proj.weight", zeros(32, 7)));
        var shape = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path, nf4));
        Assert.Contains("tensor 'model.layers.0.self_attn.q_proj.weight' has shape [32, 7] but config.json implies [32, 32]", shape.Message);
        Assert.Equal(shape.Message, Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path)).Message);

        Rewrite(k => k != "model.layers.0.mlp.down_proj.weight", ("model.layers.0.mlp.down_proj.weight", zeros([32, 64], ScalarType.Int32)));
        var integer = Assert.Throws<InvalidDataException>(() => CausalLM.Load(dir.Path, nf4));
        Assert.Contains("tensor 'model.layers.0.mlp.down_proj.weight' is I32, expected a floating-point type", integer.Message);
    }

    private static QuantizedLinear QuantizeAndDispose(Linear linear, BaseQuantization quantization)
    {
        var quantized = new QuantizedLinear(linear, quantization);
        linear.Dispose();
        return quantized;
    }

    private static void AssertSameStorage(string path, QuantizedLinear expected, QuantizedLinear actual)
    {
        Assert.Equal(expected.StoredDType, actual.StoredDType);
        Assert.Equal(expected.Quantization, actual.Quantization);
        Assert.Equal(expected.HasBias, actual.HasBias);
        if (expected.Nf4Weight is { } e)
        {
            var a = actual.Nf4Weight!;
            AssertEqual(path, e.Packed, a.Packed);
            Assert.Equal(e.Scales.IsDoubleQuantized, a.Scales.IsDoubleQuantized);
            if (e.Scales.IsDoubleQuantized)
            {
                AssertEqual(path, e.Scales.Codes!, a.Scales.Codes!);
                AssertEqual(path, e.Scales.Absmax2!, a.Scales.Absmax2!);
                Assert.Equal(e.Scales.Offset, a.Scales.Offset);
            }
            else AssertEqual(path, e.Scales.Absmax!, a.Scales.Absmax!);
        }
        else
        {
            AssertEqual(path, expected.Int8Weight!.Values, actual.Int8Weight!.Values);
            AssertEqual(path, expected.Int8Weight.Scales, actual.Int8Weight.Scales);
        }
        if (expected.HasBias) AssertEqual(path, expected.Bias(ScalarType.Float32)!, actual.Bias(ScalarType.Float32)!);
    }

    private static void AssertEqual(string path, Tensor expected, Tensor actual) =>
        Assert.True(expected.dtype == actual.dtype && expected.equal(actual).all().item<bool>(), $"{path}: stored tensors differ");
}
