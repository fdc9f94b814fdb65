using FineTune.Formats.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>Moves tensors between TorchSharp and safetensors files.</summary>
public static unsafe class TensorIO
{
    public static ScalarType ToTorch(SafetensorDType dtype, string? context = null) => dtype switch
    {
        SafetensorDType.F32 => ScalarType.Float32,
        SafetensorDType.F16 => ScalarType.Float16,
        SafetensorDType.BF16 => ScalarType.BFloat16,
        SafetensorDType.F64 => ScalarType.Float64,
        SafetensorDType.I8 => ScalarType.Int8,
        SafetensorDType.U8 => ScalarType.Byte,
        SafetensorDType.I16 => ScalarType.Int16,
        SafetensorDType.I32 => ScalarType.Int32,
        SafetensorDType.I64 => ScalarType.Int64,
        SafetensorDType.BOOL => ScalarType.Bool,
        _ => throw new NotSupportedException($"{context}{(context is null ? "" : ": ")}dtype {dtype} has no TorchSharp equivalent"),
    };

    public static SafetensorDType ToSafetensors(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => SafetensorDType.F32,
        ScalarType.Float16 => SafetensorDType.F16,
        ScalarType.BFloat16 => SafetensorDType.BF16,
        ScalarType.Float64 => SafetensorDType.F64,
        ScalarType.Int8 => SafetensorDType.I8,
        ScalarType.Byte => SafetensorDType.U8,
        ScalarType.Int16 => SafetensorDType.I16,
        ScalarType.Int32 => SafetensorDType.I32,
        ScalarType.Int64 => SafetensorDType.I64,
        ScalarType.Bool => SafetensorDType.BOOL,
        _ => throw new NotSupportedException($"{dtype} cannot be stored in safetensors"),
    };

    /// <summary>Reads one tensor as a CPU tensor of its stored dtype.</summary>
    public static Tensor Read(SafetensorsCheckpoint checkpoint, string name)
    {
        var info = checkpoint.Get(name);
        var t = empty(info.Shape, ToTorch(info.DType, $"{checkpoint.FileOf(name).Path}: tensor '{name}'"), CPU);
        if (info.ByteLength > 0) checkpoint.CopyTo(name, DataPointer(t), info.ByteLength);
        return t;
    }

    /// <summary>Reads one tensor from a single file as a CPU tensor of its stored dtype.</summary>
    public static Tensor Read(SafetensorsFile file, string name)
    {
        var info = file.Get(name);
        var t = empty(info.Shape, ToTorch(info.DType, $"{file.Path}: tensor '{name}'"), CPU);
        if (info.ByteLength > 0) file.CopyTo(name, DataPointer(t), info.ByteLength);
        return t;
    }

    /// <summary>
    /// Writes tensors as a Hugging Face checkpoint in <paramref name="folder"/> (sharded above <paramref name="maxShardBytes"/>),
    /// optionally cast to <paramref name="dtype"/>. Returns the files written.
    /// </summary>
    public static IReadOnlyList<string> WriteCheckpoint(string folder, IEnumerable<(string Name, Tensor Tensor)> tensors,
        ScalarType? dtype = null, long maxShardBytes = long.MaxValue, string baseName = "model",
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var writer = new SafetensorsWriter();
        if (metadata is not null) foreach (var (k, v) in metadata) writer.Metadata[k] = v;
        var copies = new List<Tensor>();
        try
        {
            foreach (var (name, tensor) in tensors)
            {
                Tensor c;
                using (no_grad())
                using (var scope = NewDisposeScope())
                    c = tensor.detach().to(dtype ?? tensor.dtype, CPU).contiguous().clone().MoveToOuterDisposeScope();
                c.DetachFromDisposeScope();
                copies.Add(c);
                writer.Add(name, ToSafetensors(c.dtype), c.shape, stream => WriteBytes(c, stream));
            }
            return writer.WriteCheckpoint(folder, maxShardBytes, baseName);
        }
        finally
        {
            foreach (var c in copies) c.Dispose();
        }
    }

    /// <summary>Address of a CPU tensor's first element (TorchSharp exposes it only through its native library).</summary>
    public static nint DataPointer(Tensor t)
    {
        if (t.device_type != DeviceType.CPU) throw new ArgumentException("DataPointer needs a CPU tensor");
        return THSTensor_data(t.Handle);
    }

    [System.Runtime.InteropServices.DllImport("LibTorchSharp")]
    private static extern nint THSTensor_data(nint tensor);

    /// <summary>Writes a contiguous CPU tensor's raw bytes.</summary>
    public static void WriteBytes(Tensor contiguousCpu, Stream stream)
    {
        var length = contiguousCpu.numel() * contiguousCpu.ElementSize;
        if (length == 0) return;
        using var source = new UnmanagedMemoryStream((byte*)DataPointer(contiguousCpu), length);
        source.CopyTo(stream, 1 << 20);
    }
}
