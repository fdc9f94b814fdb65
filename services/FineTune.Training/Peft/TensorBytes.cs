using FineTune.Formats.Safetensors;
using static TorchSharp.torch;

namespace FineTune.Training.Peft;

/// <summary>Safetensors bytes → TorchSharp tensors (little-endian, row-major) for the float dtypes adapters use.</summary>
internal static class TensorBytes
{
    public static Tensor ToTensor(SafetensorInfo info, ReadOnlySpan<byte> data, string source)
    {
        var dtype = info.DType switch
        {
            SafetensorDType.F32 => ScalarType.Float32,
            SafetensorDType.F16 => ScalarType.Float16,
            SafetensorDType.BF16 => ScalarType.BFloat16,
            SafetensorDType.F64 => ScalarType.Float64,
            _ => throw new InvalidDataException($"{source}: tensor '{info.Name}' has dtype {info.DType}; adapters hold F32, F16, BF16 or F64"),
        };
        var t = empty(info.Shape, dtype);
        data.CopyTo(t.bytes);
        return t;
    }
}
