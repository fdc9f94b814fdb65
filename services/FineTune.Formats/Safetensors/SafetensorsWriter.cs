// Safetensors writer, written by hand (no safetensors library on this feed).
// Every file is written to a temporary name beside its target and renamed into place, so a crash never leaves
// a half-written checkpoint under the final name; for a sharded checkpoint the index is renamed last.
using System.Text.Json;

namespace FineTune.Formats.Safetensors;

/// <summary>Collects tensors, then writes them as one .safetensors file or as a sharded checkpoint with an index.</summary>
public sealed class SafetensorsWriter
{
    private readonly List<Entry> _entries = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>The "__metadata__" map; Hugging Face loaders expect "format": "pt".</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal) { ["format"] = "pt" };

    public int Count => _entries.Count;

    public long TotalBytes => _entries.Sum(e => e.ByteLength);

    /// <summary>Adds a tensor whose little-endian bytes are in memory.</summary>
    public SafetensorsWriter Add(string name, SafetensorDType dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var length = CheckedByteLength(name, dtype, shape);
        if (data.Length != length)
            throw new ArgumentException($"tensor '{name}': {dtype}[{string.Join(", ", shape)}] needs {length} bytes, got {data.Length}", nameof(data));
        return AddEntry(new Entry(name, dtype, (long[])shape.Clone(), length, s => s.Write(data.Span)));
    }

    /// <summary>Adds a tensor whose bytes are produced at write time; <paramref name="writeData"/> must write exactly the tensor's byte length.</summary>
    public SafetensorsWriter Add(string name, SafetensorDType dtype, long[] shape, Action<Stream> writeData)
    {
        var length = CheckedByteLength(name, dtype, shape);
        return AddEntry(new Entry(name, dtype, (long[])shape.Clone(), length, writeData));
    }

    /// <summary>Writes every tensor to one file, atomically.</summary>
    public void WriteFile(string path) => WriteShard(Path.GetFullPath(path), _entries);

    /// <summary>
    /// Writes a checkpoint into <paramref name="folder"/> the way Hugging Face does: <c>{baseName}.safetensors</c> when
    /// everything fits in <paramref name="maxShardBytes"/>, else <c>{baseName}-00001-of-0000N.safetensors</c> shards plus
    /// <c>{baseName}.safetensors.index.json</c>. Stale files of the other layout are removed afterwards.
    /// </summary>
    /// <returns>The files written, index last.</returns>
    public IReadOnlyList<string> WriteCheckpoint(string folder, long maxShardBytes = long.MaxValue, string baseName = "model")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(folder);
        var single = Path.Combine(folder, baseName + ".safetensors");
        var index = Path.Combine(folder, baseName + ".safetensors.index.json");

        var shards = Partition(maxShardBytes);
        var written = new List<string>();
        if (shards.Count <= 1)
        {
            WriteShard(single, _entries);
            written.Add(single);
        }
        else
        {
            var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < shards.Count; i++)
            {
                var name = $"{baseName}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                WriteShard(Path.Combine(folder, name), shards[i]);
                written.Add(Path.Combine(folder, name));
                foreach (var e in shards[i]) weightMap[e.Name] = name;
            }
            WriteIndex(index, weightMap);
            written.Add(index);
        }
        RemoveStale(folder, baseName, written);
        return written;
    }

    private List<List<Entry>> Partition(long maxShardBytes)
    {
        var shards = new List<List<Entry>>();
        var current = new List<Entry>();
        long size = 0;
        foreach (var e in _entries)
        {
            if (current.Count > 0 && size + e.ByteLength > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                size = 0;
            }
            current.Add(e);
            size += e.ByteLength;
        }
        if (current.Count > 0 || shards.Count == 0) shards.Add(current);
        return shards;
    }

    private void WriteShard(string path, IReadOnlyList<Entry> entries)
    {
        var infos = new List<SafetensorInfo>(entries.Count);
        long offset = 0;
        foreach (var e in entries)
        {
            infos.Add(new SafetensorInfo(e.Name, e.DType, e.Shape, offset, e.ByteLength));
            offset += e.ByteLength;
        }
        var header = SafetensorsHeader.Serialize(infos, Metadata);

        AtomicWrite(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
            stream.Write(len);
            stream.Write(header);
            foreach (var e in entries)
            {
                var before = stream.Position;
                e.WriteData(stream);
                var wrote = stream.Position - before;
                if (wrote != e.ByteLength)
                    throw new InvalidOperationException($"{path}: tensor '{e.Name}' wrote {wrote} bytes, expected {e.ByteLength}");
            }
        });
    }

    private void WriteIndex(string path, SortedDictionary<string, string> weightMap) => AtomicWrite(path, stream =>
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("metadata");
        w.WriteNumber("total_size", TotalBytes);
        w.WriteEndObject();
        w.WriteStartObject("weight_map");
        foreach (var (k, v) in weightMap) w.WriteString(k, v);
        w.WriteEndObject();
        w.WriteEndObject();
    });

    /// <summary>Writes through a temporary file in the same folder, then renames it over <paramref name="path"/>.</summary>
    public static void AtomicWrite(string path, Action<Stream> write)
    {
        var temp = path + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    private static void RemoveStale(string folder, string baseName, List<string> written)
    {
        var keep = new HashSet<string>(written, StringComparer.Ordinal);
        var stale = Directory.GetFiles(folder, baseName + "-*-of-*.safetensors")
            .Append(Path.Combine(folder, baseName + ".safetensors"))
            .Append(Path.Combine(folder, baseName + ".safetensors.index.json"));
        foreach (var f in stale)
            if (!keep.Contains(f) && File.Exists(f)) File.Delete(f);
    }

    private SafetensorsWriter AddEntry(Entry e)
    {
        if (e.Name.Length == 0) throw new ArgumentException("tensor name is empty");
        if (e.Name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor");
        if (!_names.Add(e.Name)) throw new ArgumentException($"tensor '{e.Name}' was added twice");
        _entries.Add(e);
        return this;
    }

    private static long CheckedByteLength(string name, SafetensorDType dtype, long[] shape)
    {
        long n = dtype.ElementSize();
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}]");
            n = checked(n * d);
        }
        return n;
    }

    private sealed record Entry(string Name, SafetensorDType DType, long[] Shape, long ByteLength, Action<Stream> WriteData);
}
