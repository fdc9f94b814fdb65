using System.Text;
using FineTune.Formats.Safetensors;

namespace FineTune.Formats.Tests.Safetensors;

/// <summary>Malformed and hostile files: each gets a SafetensorsFormatException naming the file and the problem.</summary>
public class SafetensorsHostileFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Raw(ulong headerLength, byte[] rest, string name = "bad.safetensors")
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(headerLength), .. rest]);
        return path;
    }

    private string WithHeader(string json, int dataBytes, string name = "bad.safetensors")
    {
        var header = Encoding.UTF8.GetBytes(json);
        return Raw((ulong)header.Length, [.. header, .. new byte[dataBytes]], name);
    }

    private SafetensorsFormatException Rejects(string path)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
        return e;
    }

    [Fact]
    public void FileShorterThanTheLengthPrefixIsRejected()
    {
        var path = _dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("shorter than the 8-byte header length", Rejects(path).Problem);
    }

    [Fact]
    public void HugeHeaderLengthIsRejectedWithoutAllocating()
    {
        Assert.Contains("exceeds the", Rejects(Raw(ulong.MaxValue, new byte[16])).Problem);
        Assert.Contains("exceeds the", Rejects(Raw(200_000_000, new byte[16])).Problem);
    }

    [Fact]
    public void HeaderLongerThanTheFileIsRejected() =>
        Assert.Contains("larger than the rest of the file", Rejects(Raw(1000, Encoding.UTF8.GetBytes("{}"))).Problem);

    [Fact]
    public void ZeroHeaderLengthIsRejected() =>
        Assert.Contains("header length is 0", Rejects(Raw(0, new byte[8])).Problem);

    [Theory]
    [InlineData("[1,2,3]", "does not start with '{'")]
    [InlineData("{\"a\": ", "not valid JSON")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}} trailing", "not valid JSON")]
    public void MalformedJsonIsRejected(string json, string problem) =>
        Assert.Contains(problem, Rejects(WithHeader(json, 4)).Problem);

    [Fact]
    public void UnknownDtypeIsNamedWithTheSupportedOnes()
    {
        var p = Rejects(WithHeader("{\"w\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4)).Problem;
        Assert.Contains("tensor 'w': unknown dtype 'F33'", p);
        Assert.Contains("BF16", p);
    }

    [Fact]
    public void ShapeAndByteCountMismatchIsRejected() =>
        Assert.Contains("F32[2, 3] needs 24 bytes but data_offsets [0, 20] hold 20",
            Rejects(WithHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 20]}}", 20)).Problem);

    [Fact]
    public void ShapeWhoseSizeOverflowsIsRejected() =>
        Assert.Contains("overflows",
            Rejects(WithHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 4]}}", 4)).Problem);

    [Fact]
    public void OverlappingTensorsAreRejected() =>
        Assert.Contains("'a' [0, 8] and 'b' [4, 12] overlap", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"U8\", \"shape\": [8], \"data_offsets\": [4, 12]}}",
            12)).Problem);

    [Fact]
    public void OffsetsPastTheEndOfATruncatedFileAreRejected() =>
        Assert.Contains("extend past the data section (10 bytes; file truncated?)", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 10)).Problem);

    [Fact]
    public void GapsAndTrailingBytesAreRejected()
    {
        Assert.Contains("gap of 4 bytes", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}", 8)).Problem);
        Assert.Contains("4 trailing bytes", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}}", 8, "trailing.safetensors")).Problem);
    }

    [Fact]
    public void OffsetsThatEndBeforeTheyBeginAreRejected() =>
        Assert.Contains("end before they begin", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [4, 0]}}", 4)).Problem);

    [Fact]
    public void DuplicateTensorNamesAreRejected() =>
        Assert.Contains("duplicate header key 'a'", Rejects(WithHeader(
            "{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}, \"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [4, 8]}}",
            8)).Problem);

    [Theory]
    [InlineData("{\"a\": {\"shape\": [4], \"data_offsets\": [0, 4]}}", "missing or non-string \"dtype\"")]
    [InlineData("{\"a\": {\"dtype\": \"U8\", \"data_offsets\": [0, 4]}}", "missing or non-array \"shape\"")]
    [InlineData("{\"a\": {\"dtype\": \"U8\", \"shape\": [-4], \"data_offsets\": [0, 4]}}", "shape entry 0 is not a non-negative integer")]
    [InlineData("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0]}}", "must be an array [begin, end]")]
    [InlineData("{\"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [-1, 3]}}", "non-negative integers")]
    [InlineData("{\"a\": 5}", "entry is not an object")]
    [InlineData("{\"__metadata__\": {\"k\": 1}, \"a\": {\"dtype\": \"U8\", \"shape\": [4], \"data_offsets\": [0, 4]}}", "\"__metadata__\".\"k\" is not a string")]
    public void MissingOrMistypedFieldsAreNamed(string json, string problem) =>
        Assert.Contains(problem, Rejects(WithHeader(json, 4)).Problem);

    [Fact]
    public void RandomCorruptionNeverEscapesAsAnythingButAFormatError()
    {
        var good = _dir.File("good.safetensors");
        var w = new SafetensorsWriter();
        for (var i = 0; i < 4; i++) w.Add($"model.layers.{i}.weight", i % 2 == 0 ? SafetensorDType.F32 : SafetensorDType.BF16, [3, 5], new byte[15 * (i % 2 == 0 ? 4 : 2)]);
        w.WriteFile(good);
        var original = File.ReadAllBytes(good);
        var rng = new Random(1234);
        var outcomes = new Dictionary<string, int> { ["ok"] = 0, ["rejected"] = 0 };
        for (var trial = 0; trial < 400; trial++)
        {
            var bytes = (byte[])original.Clone();
            var mutations = rng.Next(1, 4);
            for (var m = 0; m < mutations; m++) bytes[rng.Next(0, Math.Min(bytes.Length, 8 + 400))] = (byte)rng.Next(256);
            if (rng.Next(4) == 0) Array.Resize(ref bytes, rng.Next(0, bytes.Length));
            var path = _dir.File($"fuzz{trial}.safetensors");
            File.WriteAllBytes(path, bytes);
            try
            {
                using var f = SafetensorsFile.Open(path);
                foreach (var t in f.Tensors) _ = f.ReadBytes(t.Name);
                outcomes["ok"]++;
            }
            catch (SafetensorsFormatException e)
            {
                Assert.StartsWith(path, e.Message);
                outcomes["rejected"]++;
            }
            File.Delete(path);
        }
        Assert.True(outcomes["rejected"] > 100, $"fuzzing should mostly produce rejected files: {outcomes["rejected"]}");
    }
}
