// GGUF v3 reader, hand-written from the specification (shared/reference/gguf-ollama.md §1). Validates what llama.cpp's
// loader validates: magic, version, duplicate keys and tensor names, the type of general.alignment, name lengths,
// dims, block divisibility, and that tensor i's offset equals the sum of the padded sizes of tensors 0..i-1 and the
// data fits in the file. Used by the export's self-check and by the tests to read every tensor back.
using System.Text;

namespace FineTune.Formats.Gguf;

public sealed class GgufFormatException(string path, string message) : Exception($"{path}: {message}")
{
    public string FilePath { get; } = path;
}

public sealed class GgufReader : IDisposable
{
    private readonly FileStream _file;
    private readonly Dictionary<string, GgufTensorInfo> _byName = new(StringComparer.Ordinal);

    private GgufReader(string path, FileStream file)
    {
        Path = path;
        _file = file;
    }

    public string Path { get; }
    public uint Version { get; private set; }
    public int Alignment { get; private set; } = GgufConstants.DefaultAlignment;
    public long DataStart { get; private set; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; private set; } = new Dictionary<string, GgufValue>();
    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataOrder { get; private set; } = [];
    public IReadOnlyList<GgufTensorInfo> Tensors { get; private set; } = [];

    public GgufValue? Get(string key) => Metadata.TryGetValue(key, out var v) ? v : null;
    public GgufTensorInfo Tensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");
    public bool HasTensor(string name) => _byName.ContainsKey(name);

    public static GgufReader Open(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = new GgufReader(full, file);
        try
        {
            reader.Parse();
            return reader;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Raw bytes of one tensor's data (exactly its byte size, no padding).</summary>
    public byte[] ReadTensorBytes(GgufTensorInfo t)
    {
        var bytes = new byte[t.ByteSize];
        _file.Position = DataStart + t.Offset;
        _file.ReadExactly(bytes);
        return bytes;
    }

    public byte[] ReadTensorBytes(string name) => ReadTensorBytes(Tensor(name));

    /// <summary>A tensor's values as float32 (dequantized when quantized), row-major in PyTorch order.</summary>
    public float[] ReadTensorAsFloat32(string name)
    {
        var t = Tensor(name);
        return Quantization.GgmlQuantizer.Dequantize(t.Type, ReadTensorBytes(t), t.ElementCount);
    }

    public void Dispose() => _file.Dispose();

    // ---- parsing ----------------------------------------------------------------------------------------------------

    private void Parse()
    {
        var length = _file.Length;
        using var r = new BinaryReader(_file, Encoding.UTF8, leaveOpen: true);
        var (tensorCount, kvCount) = ReadHeader(r, length);
        ReadMetadata(r, kvCount);
        ReadAlignment();
        var tensors = ReadTensorInfos(r, tensorCount);
        Tensors = tensors;
        DataStart = GgufWriter.Pad(_file.Position, Alignment);
        if (tensors.Count > 0)
        {
            var last = tensors[^1];
            var end = DataStart + last.Offset + last.ByteSize;
            if (end > length) throw Fail($"tensor '{last.Name}' ends at byte {end}, past the end of the {length}-byte file");
        }
    }

    /// <summary>Magic, version and the two counts, each checked against what the file's length can hold.</summary>
    private (ulong TensorCount, ulong KvCount) ReadHeader(BinaryReader r, long length)
    {
        if (length < 24) throw Fail($"file is {length} bytes, too short for a GGUF header");
        var magic = r.ReadUInt32();
        if (magic != GgufConstants.Magic) throw Fail($"bad magic 0x{magic:X8}, expected 0x{GgufConstants.Magic:X8} (\"GGUF\")");
        Version = r.ReadUInt32();
        if (Version != GgufConstants.Version) throw Fail($"unsupported GGUF version {Version}, expected {GgufConstants.Version}");
        var tensorCount = r.ReadUInt64();
        var kvCount = r.ReadUInt64();
        if (tensorCount > (ulong)length / 24 || kvCount > (ulong)length / 12)
            throw Fail($"header claims {tensorCount} tensors and {kvCount} metadata pairs, more than a {length}-byte file can hold");
        return (tensorCount, kvCount);
    }

    private void ReadMetadata(BinaryReader r, ulong kvCount)
    {
        var kv = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        var order = new List<string>();
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = ReadString(r, $"metadata key #{i}");
            var type = (GgufValueType)r.ReadUInt32();
            var value = ReadValue(r, type, key);
            if (!kv.TryAdd(key, value)) throw Fail($"duplicate metadata key '{key}'");
            order.Add(key);
        }
        Metadata = kv;
        MetadataOrder = order;
    }

    /// <summary>general.alignment, when present: a UInt32 power of two.</summary>
    private void ReadAlignment()
    {
        if (!Metadata.TryGetValue(GgufKeys.General.Alignment, out var align)) return;
        if (align.Type != GgufValueType.UInt32) throw Fail($"'{GgufKeys.General.Alignment}' has type {align.Describe()}, expected UInt32");
        var a = align.AsUInt32();
        if (a == 0 || (a & (a - 1)) != 0) throw Fail($"'{GgufKeys.General.Alignment}' = {a} is not a power of two");
        Alignment = (int)a;
    }

    /// <summary>The tensor infos, each checked (name length, dims, supported type, block-aligned rows) and packed back to back.</summary>
    private List<GgufTensorInfo> ReadTensorInfos(BinaryReader r, ulong tensorCount)
    {
        var tensors = new List<GgufTensorInfo>();
        long expectedOffset = 0;
        for (ulong i = 0; i < tensorCount; i++)
        {
            var t = ReadTensorInfo(r, i);
            if (t.Offset != expectedOffset) throw Fail($"tensor '{t.Name}' has offset {t.Offset}, expected {expectedOffset}");
            if (!_byName.TryAdd(t.Name, t)) throw Fail($"duplicate tensor name '{t.Name}'");
            tensors.Add(t);
            expectedOffset += GgufWriter.Pad(t.ByteSize, Alignment);
        }
        return tensors;
    }

    private GgufTensorInfo ReadTensorInfo(BinaryReader r, ulong i)
    {
        var name = ReadString(r, $"tensor name #{i}");
        if (Encoding.UTF8.GetByteCount(name) > GgufConstants.MaxTensorNameBytes)
            throw Fail($"tensor name '{name}' is longer than {GgufConstants.MaxTensorNameBytes} bytes");
        var nDims = r.ReadUInt32();
        if (nDims is 0 or > GgufConstants.MaxDims) throw Fail($"tensor '{name}' has {nDims} dims, expected 1..{GgufConstants.MaxDims}");
        var ne = new long[nDims];
        for (var d = 0; d < nDims; d++)
        {
            var v = r.ReadUInt64();
            if (v == 0 || v > long.MaxValue / 2) throw Fail($"tensor '{name}' dim {d} = {v} is invalid");
            ne[d] = (long)v;
        }
        var type = (GgmlType)r.ReadUInt32();
        if (!GgmlTypeInfo.IsSupported(type)) throw Fail($"tensor '{name}' has unsupported ggml type {(uint)type}");
        var info = GgmlTypeInfo.Of(type);
        if (ne[0] % info.BlockElements != 0) throw Fail($"tensor '{name}': ne[0] = {ne[0]} is not a multiple of {type}'s block size {info.BlockElements}");
        var offset = (long)r.ReadUInt64();
        return new GgufTensorInfo(name, ne, type, offset);
    }

    private GgufValue ReadValue(BinaryReader r, GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => GgufValue.UInt8(r.ReadByte()),
        GgufValueType.Int8 => GgufValue.Int8(r.ReadSByte()),
        GgufValueType.UInt16 => GgufValue.UInt16(r.ReadUInt16()),
        GgufValueType.Int16 => GgufValue.Int16(r.ReadInt16()),
        GgufValueType.UInt32 => GgufValue.UInt32(r.ReadUInt32()),
        GgufValueType.Int32 => GgufValue.Int32(r.ReadInt32()),
        GgufValueType.Float32 => GgufValue.Float32(r.ReadSingle()),
        GgufValueType.Bool => ReadBool(r, key),
        GgufValueType.String => GgufValue.String(ReadString(r, $"value of '{key}'")),
        GgufValueType.UInt64 => GgufValue.UInt64(r.ReadUInt64()),
        GgufValueType.Int64 => GgufValue.Int64(r.ReadInt64()),
        GgufValueType.Float64 => GgufValue.Float64(r.ReadDouble()),
        GgufValueType.Array => ReadArray(r, key),
        _ => throw Fail($"metadata key '{key}' has unknown value type {(uint)type}"),
    };

    private GgufValue ReadBool(BinaryReader r, string key)
    {
        var b = r.ReadByte();
        return b <= 1 ? GgufValue.Bool(b == 1) : throw Fail($"metadata key '{key}': bool byte {b} is not 0 or 1");
    }

    private GgufValue ReadArray(BinaryReader r, string key)
    {
        var elementType = (GgufValueType)r.ReadUInt32();
        var count = r.ReadUInt64();
        if (count > (ulong)(_file.Length - _file.Position)) throw Fail($"metadata key '{key}': array of {count} elements cannot fit in the file");
        var n = (int)count;
        Array values = elementType switch
        {
            GgufValueType.String => Fill(new string[n], _ => ReadString(r, $"element of '{key}'")),
            GgufValueType.Int32 => Fill(new int[n], _ => r.ReadInt32()),
            GgufValueType.UInt32 => Fill(new uint[n], _ => r.ReadUInt32()),
            GgufValueType.Float32 => Fill(new float[n], _ => r.ReadSingle()),
            GgufValueType.UInt8 => r.ReadBytes(n),
            GgufValueType.Int8 => Fill(new sbyte[n], _ => r.ReadSByte()),
            GgufValueType.UInt16 => Fill(new ushort[n], _ => r.ReadUInt16()),
            GgufValueType.Int16 => Fill(new short[n], _ => r.ReadInt16()),
            GgufValueType.Bool => Fill(new bool[n], _ => ReadBool(r, key).AsBool()),
            GgufValueType.UInt64 => Fill(new ulong[n], _ => r.ReadUInt64()),
            GgufValueType.Int64 => Fill(new long[n], _ => r.ReadInt64()),
            GgufValueType.Float64 => Fill(new double[n], _ => r.ReadDouble()),
            GgufValueType.Array => Fill(new GgufValue[n], _ => ReadArray(r, key)),
            _ => throw Fail($"metadata key '{key}': unknown array element type {(uint)elementType}"),
        };
        return new GgufValue(GgufValueType.Array, values, elementType);
    }

    private static T[] Fill<T>(T[] array, Func<int, T> read)
    {
        for (var i = 0; i < array.Length; i++) array[i] = read(i);
        return array;
    }

    private string ReadString(BinaryReader r, string what)
    {
        var len = r.ReadUInt64();
        if (len > (ulong)(_file.Length - _file.Position)) throw Fail($"{what}: string length {len} runs past the end of the file");
        var bytes = r.ReadBytes((int)len);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Fail($"{what}: string is not valid UTF-8"); }
    }

    private GgufFormatException Fail(string message) => new(Path, message);
}
