using FineTune.Formats.Gguf;
using FineTune.Formats.Gguf.Quantization;

namespace FineTune.Formats.Tests.Gguf;

public sealed class GgufWriterReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new("gguf");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void MetadataOfEveryTypeRoundTripsInOrder()
    {
        var path = _dir.File("meta.gguf");
        using (var w = new GgufWriter(path, "llama"))
        {
            w.Add("t.u8", GgufValue.UInt8(200));
            w.Add("t.i8", GgufValue.Int8(-5));
            w.Add("t.u16", GgufValue.UInt16(65000));
            w.Add("t.i16", GgufValue.Int16(-300));
            w.AddUInt32("t.u32", 4_000_000_000);
            w.AddInt32("t.i32", -7);
            w.AddFloat32("t.f32", 1.5f);
            w.AddBool("t.bool", true);
            w.AddString("t.str", "héllo ✓");
            w.AddUInt64("t.u64", ulong.MaxValue);
            w.Add("t.i64", GgufValue.Int64(long.MinValue));
            w.Add("t.f64", GgufValue.Float64(Math.PI));
            w.AddStrings("t.strs", ["a", "", "Ġb c"]);
            w.AddInt32s("t.ints", [1, -2, 3]);
            w.AddFloat32s("t.floats", [0.25f, -1e-9f]);
            w.Add("t.nested", new GgufValue(GgufValueType.Array, new[] { GgufValue.Int32s([1, 2]), GgufValue.Int32s([3]) }, GgufValueType.Array));
            w.AddContextLength(128);
            w.Commit();
        }
        using var r = GgufReader.Open(path);
        Assert.Equal("llama", r.Get("general.architecture")!.AsString());
        Assert.Equal((byte)200, r.Get("t.u8")!.Value);
        Assert.Equal((sbyte)-5, r.Get("t.i8")!.Value);
        Assert.Equal((ushort)65000, r.Get("t.u16")!.Value);
        Assert.Equal((short)-300, r.Get("t.i16")!.Value);
        Assert.Equal(4_000_000_000u, r.Get("t.u32")!.AsUInt32());
        Assert.Equal(-7, r.Get("t.i32")!.Value);
        Assert.Equal(1.5f, r.Get("t.f32")!.AsFloat32());
        Assert.True(r.Get("t.bool")!.AsBool());
        Assert.Equal("héllo ✓", r.Get("t.str")!.AsString());
        Assert.Equal(ulong.MaxValue, r.Get("t.u64")!.Value);
        Assert.Equal(long.MinValue, r.Get("t.i64")!.Value);
        Assert.Equal(Math.PI, r.Get("t.f64")!.Value);
        Assert.Equal(["a", "", "Ġb c"], r.Get("t.strs")!.AsArray<string>());
        Assert.Equal([1, -2, 3], r.Get("t.ints")!.AsArray<int>());
        Assert.Equal([0.25f, -1e-9f], r.Get("t.floats")!.AsArray<float>());
        var nested = r.Get("t.nested")!.AsArray<GgufValue>();
        Assert.Equal([3], nested[1].AsArray<int>());
        Assert.Equal(128u, r.Get("llama.context_length")!.AsUInt32());
        Assert.Equal("general.architecture", r.MetadataOrder[0]);
        Assert.Equal("llama.context_length", r.MetadataOrder[^1]);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void TensorsAreAlignedAtOffsetsLlamaCppExpectsAndReadBackExactly(int alignment)
    {
        var path = _dir.File("t.gguf");
        var rng = new Random(1);
        var a = Enumerable.Range(0, 3 * 5).Select(_ => (float)rng.NextDouble()).ToArray();  // odd byte size: forces padding
        var b = Enumerable.Range(0, 2 * 64).Select(_ => (float)rng.NextGaussian()).ToArray();
        var c = Enumerable.Range(0, 7).Select(i => (float)i).ToArray();
        using (var w = new GgufWriter(path, "llama", alignment))
        {
            w.AddTensorInfo("a", [3, 5], GgmlType.F16);
            w.AddTensorInfo("b", [2, 64], GgmlType.Q8_0);
            w.AddTensorInfo("c", [7], GgmlType.F32);
            w.WriteHeader();
            Assert.Equal(0, w.DataStart % alignment);
            w.WriteTensorData("a", GgmlQuantizer.Quantize(GgmlType.F16, a));
            w.WriteTensorData("b", GgmlQuantizer.Quantize(GgmlType.Q8_0, b));
            w.WriteTensorData("c", GgmlQuantizer.Quantize(GgmlType.F32, c));
            w.Commit();
        }
        using var r = GgufReader.Open(path);
        Assert.Equal(alignment, r.Alignment);
        Assert.Equal(0, r.DataStart % alignment);
        Assert.Equal([5L, 3L], r.Tensor("a").Ne);                 // PyTorch shape reversed
        long expected = 0;
        foreach (var t in r.Tensors)
        {
            Assert.Equal(expected, t.Offset);
            Assert.Equal(0, t.Offset % alignment);
            expected += GgufWriter.Pad(t.ByteSize, alignment);
        }
        Assert.Equal(r.DataStart + expected, new FileInfo(path).Length); // the last tensor is padded too
        Assert.Equal(c, r.ReadTensorAsFloat32("c"));
        Assert.Equal(a.Select(x => (float)(Half)x), r.ReadTensorAsFloat32("a"));
        Assert.True(QuantizationErrorBound.RelativeRmsError(b, r.ReadTensorAsFloat32("b")) < QuantizationErrorBound.RelativeRms(GgmlType.Q8_0));
    }

    [Fact]
    public void DuplicateKeysAndTensorNamesAreRejected()
    {
        using var w = new GgufWriter(_dir.File("d.gguf"), "llama");
        w.AddUInt32("x.y", 1);
        Assert.Contains("Duplicate GGUF metadata key 'x.y'", Assert.Throws<InvalidOperationException>(() => w.AddUInt32("x.y", 2)).Message);
        w.AddTensorInfo("t", [32], GgmlType.F32);
        Assert.Contains("Duplicate GGUF tensor name 't'", Assert.Throws<InvalidOperationException>(() => w.AddTensorInfo("t", [32], GgmlType.F32)).Message);
    }

    [Fact]
    public void OutOfStateCallsNameTheExpectedState()
    {
        using var w = new GgufWriter(_dir.File("s.gguf"), "llama");
        w.AddTensorInfo("t", [32], GgmlType.F32);
        var early = Assert.Throws<InvalidOperationException>(() => w.WriteTensorData("t", new byte[128]));
        Assert.Contains("state Collecting, expected Weights", early.Message);
        w.WriteHeader();
        var late = Assert.Throws<InvalidOperationException>(() => w.AddUInt32("k.k", 1));
        Assert.Contains("state Weights, expected Collecting", late.Message);
        Assert.Contains("needs 128 bytes", Assert.Throws<ArgumentException>(() => w.WriteTensorData("t", new byte[64])).Message);
        Assert.Contains("still lack data", Assert.Throws<InvalidOperationException>(() => w.Commit()).Message);
    }

    [Fact]
    public void TensorDataMustFollowInfoOrder()
    {
        using var w = new GgufWriter(_dir.File("o.gguf"), "llama");
        w.AddTensorInfo("first", [32], GgmlType.F32);
        w.AddTensorInfo("second", [32], GgmlType.F32);
        w.WriteHeader();
        var ex = Assert.Throws<InvalidOperationException>(() => w.WriteTensorData("second", new byte[128]));
        Assert.Contains("expected 'first', got 'second'", ex.Message);
    }

    [Fact]
    public void InvalidTensorInfosAreRejectedWithTheReason()
    {
        using var w = new GgufWriter(_dir.File("i.gguf"), "llama");
        Assert.Contains("block size 32", Assert.Throws<ArgumentException>(() => w.AddTensorInfo("q", [2, 48], GgmlType.Q8_0)).Message);
        Assert.Contains("accepts 1..63", Assert.Throws<ArgumentException>(() => w.AddTensorInfo(new string('x', 64), [32], GgmlType.F32)).Message);
        Assert.Contains("1..4", Assert.Throws<ArgumentException>(() => w.AddTensorInfo("five", [1, 1, 1, 1, 32], GgmlType.F32)).Message);
    }

    [Fact]
    public void AbandonedWriterLeavesNoFileBehind()
    {
        var path = _dir.File("gone.gguf");
        using (var w = new GgufWriter(path, "llama"))
        {
            w.AddTensorInfo("t", [32], GgmlType.F32);
            w.WriteHeader();
        }
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void ReaderRejectsCorruptFilesNamingTheProblem()
    {
        var path = _dir.File("ok.gguf");
        using (var w = new GgufWriter(path, "llama"))
        {
            w.AddTensorInfo("a", [32], GgmlType.F32);
            w.AddTensorInfo("b", [32], GgmlType.F32);
            w.WriteHeader();
            w.WriteTensorData("a", new byte[128]);
            w.WriteTensorData("b", new byte[128]);
            w.Commit();
        }
        var bytes = File.ReadAllBytes(path);

        var badMagic = (byte[])bytes.Clone();
        badMagic[0] = (byte)'X';
        Assert.Contains("bad magic", ReadFails(badMagic));

        var badVersion = (byte[])bytes.Clone();
        badVersion[4] = 2;
        Assert.Contains("unsupported GGUF version 2", ReadFails(badVersion));

        // The last 8 bytes of the tensor infos are b's offset (128): make it 0.
        using (var r = GgufReader.Open(path))
        {
            var offsetPos = (int)(r.DataStart - 1);
            while (bytes[offsetPos] == 0 && offsetPos > 0) offsetPos--;   // skip padding back to the offset's low byte
            var badOffset = (byte[])bytes.Clone();
            badOffset[offsetPos] = 0;
            Assert.Contains("tensor 'b' has offset 0, expected 128", ReadFails(badOffset));
        }

        Assert.Contains("past the end", ReadFails(bytes[..^64]));
    }

    private string ReadFails(byte[] content)
    {
        var path = _dir.File($"bad-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, content);
        var ex = Assert.Throws<GgufFormatException>(() => GgufReader.Open(path).Dispose());
        Assert.StartsWith(path, ex.Message);
        return ex.Message;
    }
}

internal static class RandomExtensions
{
    public static double NextGaussian(this Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
