using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace FineTune.Data.Shards;

/// <summary>
/// Reads a shard file (<see cref="ShardFormat"/>) through a read-only memory map: the header is validated against the file
/// length up front (errors name the file), and records are copied out on demand. Packs (written by
/// workers before packing moved to the trainer) count in the file length and are otherwise ignored. Thread-safe for reads.
/// </summary>
public sealed class ShardReader : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long[] _offsets;

    public string Path { get; }
    public int Version { get; }
    public byte[] TokenizerHash { get; }
    public int Count { get; }
    public long TokenCount { get; }
    public int MaxLength { get; }

    public static ShardReader Open(string path) => new(path);

    private ShardReader(string path)
    {
        Path = path;
        var length = new FileInfo(path).Length;
        if (length < ShardFormat.HeaderBytes)
            throw new InvalidDataException($"{path}: {length} bytes is too short for a shard header ({ShardFormat.HeaderBytes} bytes).");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var header = new byte[ShardFormat.HeaderBytes];
            _view.ReadArray(0, header, 0, header.Length);
            if (!header.AsSpan(0, 8).SequenceEqual(ShardFormat.Magic))
                throw new InvalidDataException($"{path}: not a shard file (bad magic).");
            Version = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            if (Version != ShardFormat.Version)
                throw new InvalidDataException($"{path}: shard version {Version}, this reader supports {ShardFormat.Version}. Re-run preprocessing.");
            TokenizerHash = header[16..48];
            var records = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(48));
            var tokens = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(56));
            var packs = BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(64));
            MaxLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(72));
            if (records > int.MaxValue || tokens > long.MaxValue / 8 || packs > records)
                throw new InvalidDataException($"{path}: implausible header counts (records {records}, tokens {tokens}, packs {packs}).");
            Count = (int)records;
            TokenCount = (long)tokens;
            var expected = ShardFormat.FileLength(TokenCount, Count, (long)packs);
            if (expected != length)
                throw new InvalidDataException($"{path}: file is {length} bytes but its header describes {expected} (truncated or corrupt).");
            _offsets = ReadU64s(ShardFormat.OffsetsOffset(TokenCount), Count + 1);
            if (_offsets[0] != 0 || _offsets[^1] != TokenCount)
                throw new InvalidDataException($"{path}: offsets do not span the {TokenCount} tokens.");
        }
        catch
        {
            _view?.Dispose();
            _map.Dispose();
            throw;
        }
    }

    private long[] ReadU64s(long position, int count)
    {
        var bytes = new byte[8 * count];
        _view.ReadArray(position, bytes, 0, bytes.Length);
        var values = new long[count];
        for (var i = 0; i < count; i++) values[i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8 * i));
        return values;
    }

    public int RecordLength(int index) => (int)(_offsets[index + 1] - _offsets[index]);

    /// <summary>Token ids and loss mask of record <paramref name="index"/>.</summary>
    public (int[] Tokens, bool[] Mask) Read(int index)
    {
        if ((uint)index >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(index), $"{Path}: record {index} of {Count}");
        var start = _offsets[index];
        var length = RecordLength(index);
        var tokens = new int[length];
        _view.ReadArray(ShardFormat.HeaderBytes + 4 * start, tokens, 0, length);
        if (!BitConverter.IsLittleEndian)
            for (var i = 0; i < length; i++) tokens[i] = BinaryPrimitives.ReverseEndianness(tokens[i]);
        var maskBytes = new byte[length];
        _view.ReadArray(ShardFormat.MaskOffset(TokenCount) + start, maskBytes, 0, length);
        var mask = new bool[length];
        for (var i = 0; i < length; i++) mask[i] = maskBytes[i] != 0;
        return (tokens, mask);
    }

    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }
}
