using FineTune.Formats.Safetensors;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models;

/// <summary>
/// Writes a Hugging Face folder of random weights for any supported config.json, one tensor at a time: the model is built
/// on libtorch's "meta" device (shapes, no storage), and each tensor is generated, written and freed before the next, so a
/// 7B checkpoint never needs more than its largest tensor in memory. For benchmarks and tests (`ft init --config`).
/// Initialisation as <see cref="CausalLM.InitializeWeights"/>: N(0, std) weights, zero biases, norm weights at identity
/// (1, or 0 for Gemma, whose norms scale by 1 + w).
/// </summary>
public static class RandomCheckpoint
{
    /// <summary>Default shard size: transformers' save_pretrained default (5 GB).</summary>
    public const long DefaultMaxShardBytes = 5L * 1000 * 1000 * 1000;

    public static IReadOnlyList<string> Write(ModelConfig config, string folder, ScalarType dtype, long seed = 0, double std = 0.02,
        long maxShardBytes = DefaultMaxShardBytes)
    {
        var layout = Layout(config);
        var writer = new SafetensorsWriter();
        var index = 0;
        foreach (var (name, shape) in layout)
        {
            var tensorSeed = seed * 1_000_003 + index++;
            writer.Add(name, TensorIO.ToSafetensors(dtype), shape,
                stream => WriteTensor(stream, name, shape, dtype, tensorSeed, std, config.Gemma));
        }
        Directory.CreateDirectory(folder);
        var files = writer.WriteCheckpoint(folder, maxShardBytes);
        (config with { TorchDtype = CausalLM.TorchDtypeName(dtype) }).Save(folder);
        return files;
    }

    /// <summary>Every checkpoint key of <paramref name="config"/>'s model with its shape, in state_dict order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Layout(ModelConfig config)
    {
        using var model = new CausalLM(config, new Device(DeviceType.META), ScalarType.Float32);
        return [.. model.state_dict().Select(kv => (kv.Key, kv.Value.shape))];
    }

    /// <summary>Bytes a checkpoint of <paramref name="config"/> takes in <paramref name="dtype"/>.</summary>
    public static long Bytes(ModelConfig config, ScalarType dtype) =>
        Layout(config).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)) * TensorIO.ToSafetensors(dtype).ElementSize();

    private static void WriteTensor(Stream stream, string name, long[] shape, ScalarType dtype, long seed, double std, bool gemma)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator((ulong)seed, CPU);
        Tensor t;
        if (IsNormWeight(name)) t = gemma ? zeros(shape, dtype) : ones(shape, dtype);
        else if (name.EndsWith(".bias", StringComparison.Ordinal)) t = zeros(shape, dtype);
        else t = normal(0, std, shape, ScalarType.Float32, CPU, generator: generator).to(dtype);
        TensorIO.WriteBytes(t.contiguous(), stream);
    }

    private static bool IsNormWeight(string name) =>
        name.EndsWith("norm.weight", StringComparison.Ordinal) || name.EndsWith("layernorm.weight", StringComparison.Ordinal);
}
