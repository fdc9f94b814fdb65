using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FineTune.Data.Shards;

/// <summary>
/// Writes one shard file (layout in <see cref="ShardFormat"/>) as a state machine: Add records → Complete. Tokens stream to
/// the output file as they come, masks to a side file; Complete appends mask and offsets, writes the header, flushes
/// and renames the temp file into place. Disposing without Complete deletes everything written.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly string _path;
    private readonly string _temp;
    private readonly string _maskTemp;
    private readonly byte[] _tokenizerHash;
    private readonly int _maxLength;
    private readonly FileStream _tokens;
    private readonly FileStream _mask;
    private readonly List<long> _offsets = [0];
    private long _tokenCount;
    private bool _completed;

    public ShardWriter(string path, ReadOnlySpan<byte> tokenizerHash, int maxLength)
    {
        if (tokenizerHash.Length != 32) throw new ArgumentException("the tokenizer hash must be 32 bytes (SHA-256)", nameof(tokenizerHash));
        _path = path;
        _temp = path + $".tmp-{Guid.NewGuid():N}";
        _maskTemp = _temp + ".mask";
        _tokenizerHash = tokenizerHash.ToArray();
        _maxLength = maxLength;
        _tokens = new FileStream(_temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _mask = new FileStream(_maskTemp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        _tokens.Write(new byte[ShardFormat.HeaderBytes]);
    }

    public long Records => _offsets.Count - 1;
    public long Tokens => _tokenCount;
    public long TargetTokens { get; private set; }

    /// <summary>Appends one record (records are never packed here: the trainer packs, see docs/training.md).</summary>
    public void Add(ReadOnlySpan<int> tokens, ReadOnlySpan<bool> mask)
    {
        if (_completed) throw new InvalidOperationException("the shard is complete");
        if (tokens.Length != mask.Length) throw new ArgumentException($"{tokens.Length} tokens but {mask.Length} mask entries");
        if (tokens.Length == 0) throw new ArgumentException("a record needs at least one token");

        if (BitConverter.IsLittleEndian)
            _tokens.Write(MemoryMarshal.AsBytes(tokens));
        else
        {
            Span<byte> b = stackalloc byte[4];
            foreach (var t in tokens) { BinaryPrimitives.WriteInt32LittleEndian(b, t); _tokens.Write(b); }
        }
        Span<byte> m = tokens.Length <= 4096 ? stackalloc byte[tokens.Length] : new byte[tokens.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            m[i] = mask[i] ? (byte)1 : (byte)0;
            if (mask[i]) TargetTokens++;
        }
        _mask.Write(m);
        _tokenCount += tokens.Length;
        _offsets.Add(_tokenCount);
    }

    public void Complete()
    {
        if (_completed) return;
        _mask.Position = 0;
        _mask.CopyTo(_tokens);
        var pad = ShardFormat.OffsetsOffset(_tokenCount) - (ShardFormat.MaskOffset(_tokenCount) + _tokenCount);
        _tokens.Write(new byte[pad]);
        WriteU64s(_offsets);

        Span<byte> header = stackalloc byte[ShardFormat.HeaderBytes];
        header.Clear();
        ShardFormat.Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], ShardFormat.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0);                 // flags: never packed
        _tokenizerHash.CopyTo(header[16..]);
        BinaryPrimitives.WriteUInt64LittleEndian(header[48..], (ulong)Records);
        BinaryPrimitives.WriteUInt64LittleEndian(header[56..], (ulong)_tokenCount);
        BinaryPrimitives.WriteUInt64LittleEndian(header[64..], 0UL);                // pack count: never packed
        BinaryPrimitives.WriteUInt32LittleEndian(header[72..], (uint)_maxLength);
        _tokens.Position = 0;
        _tokens.Write(header);
        _tokens.Flush(flushToDisk: true);
        _tokens.Dispose();
        _mask.Dispose();
        File.Delete(_maskTemp);
        File.Move(_temp, _path, overwrite: true);
        _completed = true;
    }

    private void WriteU64s(List<long> values)
    {
        Span<byte> b = stackalloc byte[8];
        foreach (var v in values)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)v);
            _tokens.Write(b);
        }
    }

    public void Dispose()
    {
        if (_completed) return;
        _tokens.Dispose();
        _mask.Dispose();
        File.Delete(_temp);
        File.Delete(_maskTemp);
    }
}
