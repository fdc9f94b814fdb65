using System.Text.Json;
using FineTune.Formats.Safetensors;

namespace FineTune.Formats.Tests.Safetensors;

public class SafetensorsRoundTripTests
{
    private static byte[] Bytes(int count, int seed)
    {
        var b = new byte[count];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void EveryDtypeRoundTripsWithShapeBytesAndMetadata()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        writer.Metadata["purpose"] = "test";
        var expected = new Dictionary<string, (SafetensorDType, long[], byte[])>();
        var i = 0;
        foreach (var dtype in new[] { SafetensorDType.F32, SafetensorDType.F16, SafetensorDType.BF16, SafetensorDType.I8,
                     SafetensorDType.U8, SafetensorDType.I32, SafetensorDType.I64 })
        {
            long[] shape = [3, 2 + i];
            var data = Bytes((int)(6 + 3 * i) * dtype.ElementSize(), i);
            writer.Add($"t.{dtype}", dtype, shape, data);
            expected[$"t.{dtype}"] = (dtype, shape, data);
            i++;
        }
        writer.Add("scalar", SafetensorDType.F32, [], BitConverter.GetBytes(1.5f));
        writer.Add("empty", SafetensorDType.F32, [0, 4], Array.Empty<byte>());
        var path = dir.File("x.safetensors");

        writer.WriteFile(path);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("test", file.Metadata["purpose"]);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(expected.Count + 2, file.Tensors.Count);
        foreach (var (name, (dtype, shape, data)) in expected)
        {
            var info = file.Get(name);
            Assert.Equal(dtype, info.DType);
            Assert.Equal(shape, info.Shape);
            Assert.Equal(data, file.ReadBytes(name));
        }
        Assert.Empty(file.Get("scalar").Shape);
        Assert.Equal(1.5f, BitConverter.ToSingle(file.ReadBytes("scalar")));
        Assert.Empty(file.ReadBytes("empty"));
        Assert.Equal(0, (new FileInfo(path).Length - file.Tensors.Sum(t => t.ByteLength) - 8) % 8);
    }

    [Fact]
    public void CopyToFillsUnmanagedMemoryWithTheTensorBytes()
    {
        using var dir = new TempDirectory();
        var data = Bytes(64, 7);
        new SafetensorsWriter().Add("w", SafetensorDType.F32, [4, 4], data).WriteFile(dir.File("a.safetensors"));
        using var file = SafetensorsFile.Open(dir.File("a.safetensors"));
        var buffer = System.Runtime.InteropServices.Marshal.AllocHGlobal(64);
        try
        {
            file.CopyTo("w", buffer, 64);
            var copy = new byte[64];
            System.Runtime.InteropServices.Marshal.Copy(buffer, copy, 0, 64);
            Assert.Equal(data, copy);
            Assert.Throws<ArgumentException>(() => file.CopyTo("w", buffer, 32));
        }
        finally { System.Runtime.InteropServices.Marshal.FreeHGlobal(buffer); }
    }

    [Fact]
    public void ShardedCheckpointSplitsAtTheLimitAndReadsBackEveryTensor()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        var data = new Dictionary<string, byte[]>();
        for (var i = 0; i < 5; i++)
        {
            data[$"layer.{i}.weight"] = Bytes(400, i);
            writer.Add($"layer.{i}.weight", SafetensorDType.F32, [10, 10], data[$"layer.{i}.weight"]);
        }

        var files = writer.WriteCheckpoint(dir.Path, maxShardBytes: 1000);

        Assert.Equal(4, files.Count); // 2+2+1 tensors of 400 bytes under a 1000-byte limit, plus the index
        Assert.EndsWith("model-00001-of-00003.safetensors", files[0]);
        Assert.EndsWith(SafetensorsCheckpoint.IndexFileName, files[^1]);
        using var index = JsonDocument.Parse(File.ReadAllText(files[^1]));
        Assert.Equal(2000, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal("model-00003-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("layer.4.weight").GetString());

        using var ckpt = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(3, ckpt.Files.Count);
        Assert.Equal(5, ckpt.Count);
        foreach (var (name, bytes) in data) Assert.Equal(bytes, ckpt.ReadBytes(name));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp-*"));
    }

    [Fact]
    public void RewritingAsOneFileRemovesTheStaleShardsAndIndex()
    {
        using var dir = new TempDirectory();
        var writer = new SafetensorsWriter();
        for (var i = 0; i < 3; i++) writer.Add($"t{i}", SafetensorDType.U8, [100], Bytes(100, i));
        writer.WriteCheckpoint(dir.Path, maxShardBytes: 100);
        Assert.True(File.Exists(Path.Combine(dir.Path, SafetensorsCheckpoint.IndexFileName)));

        writer.WriteCheckpoint(dir.Path);

        Assert.Equal([Path.Combine(dir.Path, "model.safetensors")], Directory.GetFiles(dir.Path));
        using var ckpt = SafetensorsCheckpoint.Open(dir.Path);
        Assert.Equal(3, ckpt.Count);
    }

    [Fact]
    public void AFailingTensorSourceLeavesThePreviousFileIntactAndNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        var path = dir.File("model.safetensors");
        new SafetensorsWriter().Add("a", SafetensorDType.U8, [4], new byte[] { 1, 2, 3, 4 }).WriteFile(path);
        var before = File.ReadAllBytes(path);

        var failing = new SafetensorsWriter().Add("a", SafetensorDType.U8, [4], s => s.Write(new byte[] { 9, 9 }));
        var e = Assert.Throws<InvalidOperationException>(() => failing.WriteFile(path));

        Assert.Contains("wrote 2 bytes, expected 4", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void WriterRejectsDuplicateNamesAndWrongByteCounts()
    {
        var w = new SafetensorsWriter().Add("a", SafetensorDType.F32, [2], new byte[8]);
        Assert.Throws<ArgumentException>(() => w.Add("a", SafetensorDType.F32, [2], new byte[8]));
        Assert.Throws<ArgumentException>(() => w.Add("b", SafetensorDType.F32, [2], new byte[7]));
        Assert.Throws<ArgumentException>(() => w.Add("__metadata__", SafetensorDType.U8, [1], new byte[1]));
    }
}
