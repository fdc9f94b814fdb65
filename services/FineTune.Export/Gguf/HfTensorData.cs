// Reads one checkpoint tensor as float32 (from F32, F16 or BF16 safetensors data).
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FineTune.Formats.Safetensors;

namespace FineTune.Export.Gguf;

public static class HfTensorData
{
    public static float[] ReadFloat32(SafetensorsCheckpoint checkpoint, string name)
    {
        var info = checkpoint.Get(name);
        var bytes = checkpoint.GetSpan(name);
        return ToFloat32(info.DType, bytes, $"{checkpoint.Source}: tensor '{name}'");
    }

    public static float[] ToFloat32(SafetensorDType dtype, ReadOnlySpan<byte> bytes, string what)
    {
        switch (dtype)
        {
            case SafetensorDType.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case SafetensorDType.F16:
            {
                var n = bytes.Length / 2;
                var result = new float[n];
                for (var i = 0; i < n; i++) result[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                return result;
            }
            case SafetensorDType.BF16:
            {
                var n = bytes.Length / 2;
                var result = new float[n];
                for (var i = 0; i < n; i++) result[i] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                return result;
            }
            default:
                throw new NotSupportedException($"{what} has dtype {dtype}; GGUF export reads F32, F16 and BF16 weights.");
        }
    }
}
