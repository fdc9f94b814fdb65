// Reads checkpoint tensors as float32 (from F32, F16 or BF16 safetensors data) straight out of the memory-mapped file:
// F16 through HalfConversion (its bits moved into a float's places and rescaled), BF16 through BFloat16Conversion
// (each value widened into the top half of a float), both vectorised and exact (the same values as an element-by-
// element conversion). The export reads through Elements, a chunk at a time into the quantizer's cache-sized buffer,
// so no tensor is ever held whole as float32 (for a 7B model's embedding that would be 0.5 GB, written and read back
// once more).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FineTune.Formats.Gguf.Quantization;
using FineTune.Formats.Safetensors;

namespace FineTune.Export.Gguf;

public static class HfTensorData
{
    public static float[] ReadFloat32(SafetensorsCheckpoint checkpoint, string name) =>
        ToFloat32(checkpoint.Get(name).DType, checkpoint.GetSpan(name), $"{checkpoint.Source}: tensor '{name}'");

    /// <summary>
    /// Tensor <paramref name="name"/>'s elements as float32, converted on demand. With <paramref name="sourceRow"/>, the
    /// tensor is read as a row-major matrix of <paramref name="columns"/> columns whose row r is the stored row
    /// sourceRow(r) (the llama q/k permutation). F32 data without a row order is returned from the file, uncopied.
    /// </summary>
    public static ElementSource Elements(SafetensorsCheckpoint checkpoint, string name, Func<long, long>? sourceRow = null, long columns = 1)
    {
        var dtype = checkpoint.Get(name).DType;
        var count = ElementCount(dtype, checkpoint.GetSpan(name).Length, $"{checkpoint.Source}: tensor '{name}'");
        if (count % columns != 0) throw new ArgumentException($"{checkpoint.Source}: tensor '{name}' ({count} elements) is not a matrix of {columns} columns.");
        var width = dtype == SafetensorDType.F32 ? 4 : 2;
        return (start, scratch) =>
        {
            var bytes = checkpoint.GetSpan(name);
            if (sourceRow is null) return ConvertOrView(dtype, bytes.Slice(checked((int)(start * width)), scratch.Length * width), scratch);
            for (var done = 0; done < scratch.Length;)
            {
                var (row, column) = Math.DivRem(start + done, columns);
                var n = (int)Math.Min(columns - column, scratch.Length - done);
                Convert(dtype, bytes.Slice(checked((int)((sourceRow(row) * columns + column) * width)), n * width), scratch.Slice(done, n));
                done += n;
            }
            return scratch;
        };
    }

    public static float[] ToFloat32(SafetensorDType dtype, ReadOnlySpan<byte> bytes, string what)
    {
        var result = new float[ElementCount(dtype, bytes.Length, what)];
        Convert(dtype, bytes, result);
        return result;
    }

    private static int ElementCount(SafetensorDType dtype, int byteLength, string what) => dtype switch
    {
        SafetensorDType.F32 => byteLength / 4,
        SafetensorDType.F16 or SafetensorDType.BF16 => byteLength / 2,
        _ => throw new NotSupportedException($"{what} has dtype {dtype}; GGUF export reads F32, F16 and BF16 weights."),
    };

    private static ReadOnlySpan<float> ConvertOrView(SafetensorDType dtype, ReadOnlySpan<byte> bytes, Span<float> scratch)
    {
        if (dtype == SafetensorDType.F32) return MemoryMarshal.Cast<byte, float>(bytes);
        Convert(dtype, bytes, scratch);
        return scratch;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Convert(SafetensorDType dtype, ReadOnlySpan<byte> bytes, Span<float> result)
    {
        switch (dtype)
        {
            case SafetensorDType.F32: MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result); break;
            case SafetensorDType.F16: HalfConversion.ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), result); break;
            default: BFloat16Conversion.ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), result); break;
        }
    }
}
