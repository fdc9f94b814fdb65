// base_quantization.json in terms of the model library's BaseQuantization (whose compute dtype is a TorchSharp ScalarType):
// the file format itself is FineTune.Formats' BaseQuantizationConfig; this maps it.
using FineTune.Formats.Peft;
using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;

namespace FineTune.Training.Peft;

/// <summary>
/// base_quantization.json beside adapter_config.json: how the frozen base was stored while the adapter trained
/// (<see cref="BaseQuantizationConfig"/>). Absent for a full-precision base.
/// </summary>
public static class BaseQuantizationFile
{
    public const string FileName = BaseQuantizationConfig.FileName;

    public static void Write(string folder, BaseQuantization quantization)
    {
        if (!quantization.IsQuantized)
        {
            File.Delete(Path.Combine(folder, FileName));
            return;
        }
        new BaseQuantizationConfig
        {
            FourBit = quantization.Kind == QuantizationKind.Nf4,
            DoubleQuant = quantization.DoubleQuant,
            BlockSize = quantization.BlockSize,
            ComputeDType = quantization.ComputeDType is { } dtype ? DTypeName(dtype) : null,
        }.Write(folder);
    }

    /// <summary>The base quantization recorded in <paramref name="folder"/>, or none when the file is absent.</summary>
    public static BaseQuantization Read(string folder)
    {
        if (BaseQuantizationConfig.Read(folder) is not { } config) return BaseQuantization.None;
        return new BaseQuantization
        {
            Kind = config.FourBit ? QuantizationKind.Nf4 : QuantizationKind.Int8,
            DoubleQuant = config.DoubleQuant,
            BlockSize = config.BlockSize ?? Nf4.DefaultBlockSize,
            ComputeDType = config.ComputeDType is null ? null : BaseQuantization.ParseComputeDType(config.ComputeDType)
                ?? throw new InvalidDataException($"{Path.Combine(folder, FileName)}: bnb_4bit_compute_dtype '{config.ComputeDType}' is not float32, bfloat16 or float16"),
        };
    }

    /// <summary>Applies the recorded quantization to options read from adapter_config.json.</summary>
    public static LoraOptions Apply(LoraOptions options, string folder) => options with { Quantization = Read(folder) };

    private static string DTypeName(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.BFloat16 => "bfloat16",
        TorchSharp.torch.ScalarType.Float16 => "float16",
        _ => "float32",
    };
}
