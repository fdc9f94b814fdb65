using System.Buffers.Binary;
using FineTune.Data.Shards;

namespace FineTune.Data.Tests;

/// <summary>The documented little-endian layout, byte for byte, and rejection of damaged files.</summary>
public sealed class ShardFormatTests : IDisposable
{
    private readonly TempDirectory _dir = new("ft-shard");

    public void Dispose() => _dir.Dispose();

    private string Write()
    {
        var path = _dir.File("s.bin");
        using var writer = new ShardWriter(path, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), maxLength: 5);
        writer.Add([10, 11, 12], [false, true, true]);
        writer.Add([20, 21], [false, true]);
        writer.Add([30, 31, 32, 33], [false, false, true, true]);
        writer.Complete();
        return path;
    }

    [Fact]
    public void LayoutIsTheDocumentedOne()
    {
        var bytes = File.ReadAllBytes(Write());
        Assert.Equal("FTSHARD\0"u8.ToArray(), bytes[..8]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));               // flags: not packed (the trainer packs)
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (byte)i), bytes[16..48]);
        Assert.Equal(3ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(48)));
        Assert.Equal(9ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(56)));
        Assert.Equal(0ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(64)));              // no packs
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(72)));
        Assert.Equal(10, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(80)));
        Assert.Equal(33, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(80 + 4 * 8)));
        Assert.Equal(new byte[] { 0, 1, 1, 0, 1, 0, 0, 1, 1 }, bytes[116..125]);
        var offsets = 128; // 116 + 9 = 125, aligned to 8
        Assert.Equal(new ulong[] { 0, 3, 5, 9 }, Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offsets + 8 * i))));
        Assert.Equal(offsets + 32, bytes.Length);
    }

    [Fact]
    public void ReaderReturnsWhatWasWritten()
    {
        using var reader = ShardReader.Open(Write());
        Assert.Equal(3, reader.Count);
        var (tokens, mask) = reader.Read(2);
        Assert.Equal([30, 31, 32, 33], tokens);
        Assert.Equal([false, false, true, true], mask);
    }

    [Fact]
    public void TruncatedOrForeignFilesAreRejectedNamingTheFile()
    {
        var path = Write();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^8]);
        var error = Assert.Throws<InvalidDataException>(() => ShardReader.Open(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated or corrupt", error.Message);
        bytes[0] = (byte)'X';
        File.WriteAllBytes(path, bytes);
        Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => ShardReader.Open(path)).Message);
    }

    [Fact]
    public void AbandonedWriterLeavesNoFile()
    {
        var path = _dir.File("abandoned.bin");
        using (var writer = new ShardWriter(path, new byte[32], 8))
            writer.Add([1, 2], [true, true]);
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }
}
