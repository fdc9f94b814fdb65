using FineTune.Formats.Safetensors;
using FineTune.Models.Core;
using FineTune.Models.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Models;

public sealed partial class CausalLM
{
    /// <summary>
    /// Loads a Hugging Face model folder as <see cref="Load(string, Device?, ScalarType?)"/> does, but with every attention
    /// and MLP Linear quantized on load (QLoRA's frozen base): the model is built with those Linears on the "meta" device
    /// (shapes, no storage), and each weight is read from the memory-mapped checkpoint, cast to <paramref name="dtype"/> and
    /// quantized at once into a <see cref="QuantizedLinear"/>, so no full-precision copy of the base ever exists: peak
    /// memory is the quantized weights plus one layer's weight. Embeddings, norms and lm_head are loaded in
    /// <paramref name="dtype"/>. The codes and scales equal those of loading in <paramref name="dtype"/> and quantizing after.
    /// With <see cref="BaseQuantization.None"/> this is <see cref="Load(string, Device?, ScalarType?)"/>.
    /// </summary>
    /// <exception cref="InvalidDataException">Missing, extra or mis-shaped tensors, as Load reports them.</exception>
    public static CausalLM Load(string folder, BaseQuantization quantization, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(quantization);
        if (!quantization.IsQuantized) return Load(folder, device, dtype);
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: model folder not found");
        var config = ModelConfig.FromFolder(folder);
        device ??= CPU;
        var model = new CausalLM(config, device, dtype ?? DefaultDType(device), projectionDevice: new Device(DeviceType.META));
        try
        {
            using var checkpoint = SafetensorsCheckpoint.Open(folder);
            model.LoadQuantizedWeights(checkpoint, quantization);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Checks the checkpoint against the skeleton, quantizes each projection from it, then copies the rest.</summary>
    private void LoadQuantizedWeights(SafetensorsCheckpoint checkpoint, BaseQuantization quantization)
    {
        var parameters = named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        CheckTensors(checkpoint, parameters);   // the meta Linears still have their shapes: the same errors as Load
        var materialised = parameters.Where(p => p.Value.device_type != DeviceType.META)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var path in LinearModulePaths)
            ReplaceLinear(path, skeleton => QuantizeFromCheckpoint(checkpoint, path, skeleton, quantization));
        CopyTensors(checkpoint, materialised);
    }

    /// <summary>
    /// The projection at <paramref name="path"/>, read in its stored dtype, cast to the model's dtype and device (as Load
    /// would hold it) and quantized; the meta <paramref name="skeleton"/> is disposed.
    /// </summary>
    private QuantizedLinear QuantizeFromCheckpoint(SafetensorsCheckpoint checkpoint, string path, Linear skeleton, BaseQuantization quantization)
    {
        using var noGrad = no_grad();
        using var stored = ReadFloat(checkpoint, path + ".weight");
        using var weight = stored.to(DType, Device);
        using var storedBias = skeleton.bias is null ? null : ReadFloat(checkpoint, path + ".bias");
        using var bias = storedBias?.to(DType, Device);
        skeleton.Dispose();
        return new QuantizedLinear(weight, bias, quantization);
    }
}
