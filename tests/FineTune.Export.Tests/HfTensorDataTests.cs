using System.Runtime.InteropServices;
using FineTune.Export.Gguf;
using FineTune.Formats.Gguf;
using FineTune.Models.Tiny;
using FineTune.Formats.Safetensors;
using FineTune.Tests;

namespace FineTune.Export.Tests;

/// <summary>Checkpoint tensors read as float32, whole and a chunk at a time, with and without the llama q/k row order.</summary>
public sealed class HfTensorDataTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void EveryHalfConvertsToTheFloatDotNetGives()
    {
        var bits = Enumerable.Range(0, 1 << 16).Select(i => (ushort)i).ToArray();
        var actual = HfTensorData.ToFloat32(SafetensorDType.F16, MemoryMarshal.AsBytes(bits.AsSpan()), "all halves");
        for (var i = 0; i < bits.Length; i++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf(bits[i]);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(actual[i]) && float.IsNegative(actual[i]) == float.IsNegative(expected), $"0x{i:X4}");
            else Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[i]), $"0x{i:X4}: {actual[i]} instead of {expected}");
        }
    }

    [Theory]
    [InlineData(SafetensorDType.F32)]
    [InlineData(SafetensorDType.F16)]
    [InlineData(SafetensorDType.BF16)]
    public void ChunksInAPermutedRowOrderAreTheRowsOfThePermutedWholeTensor(SafetensorDType dtype)
    {
        const int rows = 8, columns = 24, heads = 2;
        var values = Enumerable.Range(0, rows * columns).Select(i => (float)(i - 96)).ToArray();   // distinct, and exact in all three types
        using var checkpoint = Write(dtype, "w", [rows, columns], values);
        var expected = HfTensorData.ReadFloat32(checkpoint, "w");
        Assert.Equal(values, expected);
        LlamaQkPermutation.Apply(expected, rows, columns, heads);

        var source = HfTensorData.Elements(checkpoint, "w", LlamaQkPermutation.SourceRows(rows, heads), columns);
        var actual = new List<float>();
        for (var start = 0; start < values.Length; start += 20)   // chunks that start and end inside rows
            actual.AddRange(source(start, new float[Math.Min(20, values.Length - start)]).ToArray());
        Assert.Equal(expected, actual);
        Assert.Equal(values.Skip(100).Take(50), HfTensorData.Elements(checkpoint, "w")(100, new float[50]).ToArray());   // stored order
    }

    [Theory]
    [InlineData(float.NaN, "q8_0")]
    [InlineData(float.PositiveInfinity, "q8_0")]
    [InlineData(float.NaN, "f32")]
    [InlineData(float.NegativeInfinity, "f16")]
    public void AWeightThatIsNotFiniteFailsTheExportNamingItsTensor(float poison, string type)
    {
        var folder = Path.Combine(_dir.Path, "model");
        TinyModel.Write(folder, seed: 3, TinyModelPreset.Nano, family: "qwen2");
        Poison(Path.Combine(folder, "model.safetensors"), "model.layers.1.mlp.down_proj.weight", poison);

        var error = Assert.Throws<InvalidOperationException>(() =>
            new HfToGgufConverter { Verify = true }.Convert(folder, Path.Combine(_dir.Path, "out.gguf"), GgufFileType.Parse(type)));
        Assert.Contains("'blk.1.ffn_down.weight' holds NaN or infinite values", error.Message);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "out.gguf")));
    }

    /// <summary>Overwrites the first element of an F32 tensor in a safetensors file.</summary>
    private static void Poison(string file, string tensor, float value)
    {
        long start;
        using (var checkpoint = SafetensorsCheckpoint.Open(file))
        {
            var info = checkpoint.Get(tensor);
            Assert.Equal(SafetensorDType.F32, info.DType);
            using var reader = new BinaryReader(File.OpenRead(file));
            start = 8 + (long)reader.ReadUInt64() + info.DataOffset;   // after the header's length and the header
        }
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
        stream.Position = start;
        stream.Write(BitConverter.GetBytes(value));
    }

    private SafetensorsCheckpoint Write(SafetensorDType dtype, string name, long[] shape, float[] values)
    {
        var path = Path.Combine(_dir.Path, $"{dtype}.safetensors");
        var bytes = dtype switch
        {
            SafetensorDType.F32 => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
            SafetensorDType.F16 => MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
            _ => MemoryMarshal.AsBytes(values.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray().AsSpan()).ToArray(),
        };
        new SafetensorsWriter().Add(name, dtype, shape, bytes).WriteFile(path);
        return SafetensorsCheckpoint.Open(path);
    }
}
