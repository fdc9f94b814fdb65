// GGUF v3 writer, hand-written from the specification (ggml docs/gguf.md; shared/reference/gguf-ollama.md §1):
// no GGUF library exists for .NET. Shaped after gguf-py's writer: a state machine
// (Collecting → Weights → Committed), typed AddXxx methods, duplicate checks, and errors that name the expected state.
//
// Collect metadata and tensor infos first (sizes follow from type and shape, so offsets are known up front), then
// WriteHeader() emits header + KV + tensor infos + padding, then WriteTensorData() streams each tensor's bytes in info
// order (memory stays near one tensor), then Commit() flushes and renames the temp file into place (atomic).
using System.Buffers.Binary;
using System.Text;

namespace FineTune.Formats.Gguf;

public enum GgufWriterState
{
    /// <summary>Adding metadata and tensor infos.</summary>
    Collecting,
    /// <summary>Header written; tensor data is being streamed.</summary>
    Weights,
    /// <summary>File complete and moved into place.</summary>
    Committed,
    /// <summary>Disposed without commit; the temp file was removed.</summary>
    Abandoned,
}

/// <summary>A tensor info as written: GGUF name, ggml dims (fastest first), type and data offset.</summary>
public sealed record GgufTensorInfo(string Name, long[] Ne, GgmlType Type, long Offset)
{
    public long ByteSize => GgmlTypeInfo.Of(Type).TensorBytes(Ne);
    public long ElementCount => Ne.Aggregate(1L, (a, b) => a * b);
}

public sealed class GgufWriter : IDisposable
{
    private readonly string _path;
    private readonly string _tempPath;
    private readonly List<KeyValuePair<string, GgufValue>> _kv = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<GgufTensorInfo> _tensors = [];
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    private FileStream? _file;
    private int _nextTensor;
    private long _dataBytes;

    public GgufWriter(string path, string? architecture = null, int alignment = GgufConstants.DefaultAlignment)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0 || alignment % 8 != 0)
            throw new ArgumentException($"GGUF alignment must be a power of two and a multiple of 8, got {alignment}.", nameof(alignment));
        _path = Path.GetFullPath(path);
        _tempPath = _path + $".tmp-{Guid.NewGuid():N}";
        Alignment = alignment;
        if (alignment != GgufConstants.DefaultAlignment) AddUInt32(GgufKeys.General.Alignment, (uint)alignment);
        if (architecture is not null) AddArchitecture(architecture);
    }

    public GgufWriterState State { get; private set; } = GgufWriterState.Collecting;
    public int Alignment { get; }
    public string? Architecture { get; private set; }
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _kv;

    // ---- generic metadata -------------------------------------------------------------------------------------------

    public void Add(string key, GgufValue value)
    {
        Expect(GgufWriterState.Collecting, "add metadata");
        ValidateKey(key);
        if (!_keys.Add(key)) throw new InvalidOperationException($"Duplicate GGUF metadata key '{key}'.");
        ValidateValue(key, value);
        _kv.Add(new(key, value));
    }

    public void AddUInt32(string key, uint v) => Add(key, GgufValue.UInt32(v));
    public void AddInt32(string key, int v) => Add(key, GgufValue.Int32(v));
    public void AddUInt64(string key, ulong v) => Add(key, GgufValue.UInt64(v));
    public void AddFloat32(string key, float v) => Add(key, GgufValue.Float32(v));
    public void AddBool(string key, bool v) => Add(key, GgufValue.Bool(v));
    public void AddString(string key, string v) => Add(key, GgufValue.String(v));
    public void AddStrings(string key, IEnumerable<string> v) => Add(key, GgufValue.Strings(v));
    public void AddInt32s(string key, IEnumerable<int> v) => Add(key, GgufValue.Int32s(v));
    public void AddFloat32s(string key, IEnumerable<float> v) => Add(key, GgufValue.Float32s(v));

    // ---- typed one-liners (call sites never spell raw keys) ---------------------------------------------------------

    public void AddArchitecture(string arch)
    {
        AddString(GgufKeys.General.Architecture, arch);
        Architecture = arch;
    }

    public void AddType(string type) => AddString(GgufKeys.General.Type, type);
    public void AddName(string name) => AddString(GgufKeys.General.Name, name);
    public void AddFileType(LlamaFileType ft) => AddUInt32(GgufKeys.General.FileType, (uint)ft);
    public void AddQuantizationVersion(uint v = GgufConstants.QuantizationVersion) => AddUInt32(GgufKeys.General.QuantizationVersion, v);
    public void AddContextLength(uint n) => AddUInt32(ArchKey(GgufKeys.Llm.ContextLength), n);
    public void AddEmbeddingLength(uint n) => AddUInt32(ArchKey(GgufKeys.Llm.EmbeddingLength), n);
    public void AddBlockCount(uint n) => AddUInt32(ArchKey(GgufKeys.Llm.BlockCount), n);
    public void AddFeedForwardLength(uint n) => AddUInt32(ArchKey(GgufKeys.Llm.FeedForwardLength), n);
    public void AddVocabSize(uint n) => AddUInt32(ArchKey(GgufKeys.Llm.VocabSize), n);
    public void AddHeadCount(uint n) => AddUInt32(ArchKey(GgufKeys.Attention.HeadCount), n);
    public void AddHeadCountKv(uint n) => AddUInt32(ArchKey(GgufKeys.Attention.HeadCountKv), n);
    public void AddKeyLength(uint n) => AddUInt32(ArchKey(GgufKeys.Attention.KeyLength), n);
    public void AddValueLength(uint n) => AddUInt32(ArchKey(GgufKeys.Attention.ValueLength), n);
    public void AddLayerNormRmsEps(float eps) => AddFloat32(ArchKey(GgufKeys.Attention.LayerNormRmsEpsilon), eps);
    public void AddRopeDimensionCount(uint n) => AddUInt32(ArchKey(GgufKeys.Rope.DimensionCount), n);
    public void AddRopeFreqBase(float theta) => AddFloat32(ArchKey(GgufKeys.Rope.FreqBase), theta);
    public void AddRopeScalingType(string type) => AddString(ArchKey(GgufKeys.Rope.ScalingType), type);
    public void AddRopeScalingFactor(float f) => AddFloat32(ArchKey(GgufKeys.Rope.ScalingFactor), f);
    public void AddRopeScalingOriginalContextLength(uint n) => AddUInt32(ArchKey(GgufKeys.Rope.ScalingOriginalContextLength), n);
    public void AddTokenizerModel(string model) => AddString(GgufKeys.Tokenizer.Model, model);
    public void AddTokenizerPre(string pre) => AddString(GgufKeys.Tokenizer.Pre, pre);
    public void AddTokenList(IEnumerable<string> tokens) => AddStrings(GgufKeys.Tokenizer.Tokens, tokens);
    public void AddTokenScores(IEnumerable<float> scores) => AddFloat32s(GgufKeys.Tokenizer.Scores, scores);
    public void AddTokenTypes(IEnumerable<GgufTokenType> types) => AddInt32s(GgufKeys.Tokenizer.TokenType, types.Select(t => (int)t));
    public void AddTokenMerges(IEnumerable<string> merges) => AddStrings(GgufKeys.Tokenizer.Merges, merges);
    public void AddBosTokenId(uint id) => AddUInt32(GgufKeys.Tokenizer.BosId, id);
    public void AddEosTokenId(uint id) => AddUInt32(GgufKeys.Tokenizer.EosId, id);
    public void AddUnknownTokenId(uint id) => AddUInt32(GgufKeys.Tokenizer.UnknownId, id);
    public void AddPaddingTokenId(uint id) => AddUInt32(GgufKeys.Tokenizer.PaddingId, id);
    public void AddEotTokenId(uint id) => AddUInt32(GgufKeys.Tokenizer.EotId, id);
    public void AddAddBosToken(bool v) => AddBool(GgufKeys.Tokenizer.AddBos, v);
    public void AddAddEosToken(bool v) => AddBool(GgufKeys.Tokenizer.AddEos, v);
    public void AddChatTemplate(string template) => AddString(GgufKeys.Tokenizer.ChatTemplate, template);
    public void AddAdapterType(string type) => AddString(GgufKeys.Adapter.Type, type);
    public void AddLoraAlpha(float alpha) => AddFloat32(GgufKeys.Adapter.LoraAlpha, alpha);

    private string ArchKey(string key) =>
        GgufKeys.For(key, Architecture ?? throw new InvalidOperationException($"Call AddArchitecture before adding '{key}'."));

    // ---- tensor infos -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Declares a tensor. <paramref name="torchShape"/> is the PyTorch shape (slowest first); GGUF stores it reversed.
    /// </summary>
    public GgufTensorInfo AddTensorInfo(string name, IReadOnlyList<long> torchShape, GgmlType type)
    {
        Expect(GgufWriterState.Collecting, "add tensor infos");
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        if (nameBytes == 0 || nameBytes > GgufConstants.MaxTensorNameBytes)
            throw new ArgumentException($"GGUF tensor name '{name}' is {nameBytes} bytes; llama.cpp accepts 1..{GgufConstants.MaxTensorNameBytes}.");
        if (!_tensorNames.Add(name)) throw new InvalidOperationException($"Duplicate GGUF tensor name '{name}'.");
        if (torchShape.Count is 0 or > GgufConstants.MaxDims)
            throw new ArgumentException($"Tensor '{name}' has {torchShape.Count} dims; GGUF allows 1..{GgufConstants.MaxDims}.");
        if (torchShape.Any(d => d <= 0)) throw new ArgumentException($"Tensor '{name}' has a non-positive dimension: [{string.Join(", ", torchShape)}].");
        var ne = torchShape.Reverse().ToArray();
        var info = GgmlTypeInfo.Of(type);
        if (ne[0] % info.BlockElements != 0)
            throw new ArgumentException($"Tensor '{name}': row length {ne[0]} is not a multiple of {type}'s block size {info.BlockElements}.");
        var t = new GgufTensorInfo(name, ne, type, _dataBytes);
        _tensors.Add(t);
        _dataBytes += Pad(t.ByteSize, Alignment);
        return t;
    }

    // ---- emitting ---------------------------------------------------------------------------------------------------

    /// <summary>Writes header, metadata, tensor infos and the padding before the data section.</summary>
    public void WriteHeader()
    {
        Expect(GgufWriterState.Collecting, "write the header");
        var dir = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(dir);
        _file = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        using (var w = new BinaryWriter(_file, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(GgufConstants.Magic);
            w.Write(GgufConstants.Version);
            w.Write((ulong)_tensors.Count);
            w.Write((ulong)_kv.Count);
            foreach (var (key, value) in _kv)
            {
                WriteString(w, key);
                w.Write((uint)value.Type);
                WriteValue(w, value);
            }
            foreach (var t in _tensors)
            {
                WriteString(w, t.Name);
                w.Write((uint)t.Ne.Length);
                foreach (var d in t.Ne) w.Write((ulong)d);
                w.Write((uint)t.Type);
                w.Write((ulong)t.Offset);
            }
            w.Flush();
        }
        WritePadding(_file.Position);
        DataStart = _file.Position;
        State = GgufWriterState.Weights;
    }

    /// <summary>Absolute file offset of the data section (known after <see cref="WriteHeader"/>).</summary>
    public long DataStart { get; private set; }

    /// <summary>Name of the tensor whose data is expected next, or null when all are written.</summary>
    public string? NextTensorName => _nextTensor < _tensors.Count ? _tensors[_nextTensor].Name : null;

    /// <summary>Writes the next tensor's data (in info order), then pads to the alignment; a large tensor's pages start going to disk at once.</summary>
    public void WriteTensorData(string name, ReadOnlySpan<byte> data)
    {
        BeginTensor(name, data.Length);
        _file!.Write(data);
        EndTensor(data.Length);
        if (data.Length < WritebackBytes) return;
        _file.Flush(flushToDisk: false);
        FileWriteback.Start(_file.SafeFileHandle);
    }

    /// <summary>Tensors at least this large start their write-back as soon as they are written (<see cref="FileWriteback"/>).</summary>
    private const int WritebackBytes = 4 << 20;

    /// <summary>Streams the next tensor's data in chunks; <paramref name="writeChunks"/> must write exactly the tensor's byte size.</summary>
    public void WriteTensorData(string name, Action<Stream> writeChunks)
    {
        var expected = _tensors.ElementAtOrDefault(_nextTensor)?.ByteSize ?? 0;
        BeginTensor(name, expected);
        var start = _file!.Position;
        writeChunks(_file);
        EndTensor(_file.Position - start);
    }

    private void BeginTensor(string name, long length)
    {
        Expect(GgufWriterState.Weights, $"write tensor data for '{name}'");
        if (_nextTensor >= _tensors.Count) throw new InvalidOperationException($"All {_tensors.Count} tensors are written; '{name}' was not declared.");
        var t = _tensors[_nextTensor];
        if (t.Name != name) throw new InvalidOperationException($"Tensor data must follow the info order: expected '{t.Name}', got '{name}'.");
        if (length != t.ByteSize) throw new ArgumentException($"Tensor '{name}' ({t.Type}, ne=[{string.Join(", ", t.Ne)}]) needs {t.ByteSize} bytes, got {length}.");
    }

    private void EndTensor(long written)
    {
        var t = _tensors[_nextTensor];
        if (written != t.ByteSize) throw new InvalidOperationException($"Tensor '{t.Name}' needs {t.ByteSize} bytes, {written} were written.");
        WritePadding(_file!.Position - DataStart);
        _nextTensor++;
    }

    /// <summary>Flushes to disk and atomically moves the file into place. Every declared tensor must be written.</summary>
    public void Commit()
    {
        if (State == GgufWriterState.Collecting && _tensors.Count == 0) WriteHeader();
        Expect(GgufWriterState.Weights, "commit");
        if (_nextTensor != _tensors.Count)
            throw new InvalidOperationException($"Cannot commit GGUF '{_path}': {_tensors.Count - _nextTensor} tensor(s) still lack data, next is '{_tensors[_nextTensor].Name}'.");
        _file!.Flush(flushToDisk: true);
        _file.Dispose();
        _file = null;
        File.Move(_tempPath, _path, overwrite: true);
        State = GgufWriterState.Committed;
    }

    public void Dispose()
    {
        if (State is GgufWriterState.Committed or GgufWriterState.Abandoned) return;
        _file?.Dispose();
        _file = null;
        try { File.Delete(_tempPath); } catch (IOException) { }
        State = GgufWriterState.Abandoned;
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    public static long Pad(long n, int alignment) => n + (alignment - n % alignment) % alignment;

    private void WritePadding(long relativePosition)
    {
        var pad = (int)(Pad(relativePosition, Alignment) - relativePosition);
        if (pad > 0) _file!.Write(new byte[pad]);
    }

    private void Expect(GgufWriterState expected, string action)
    {
        if (State != expected)
            throw new InvalidOperationException($"Cannot {action}: the GGUF writer is in state {State}, expected {expected}.");
    }

    private static void ValidateKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > ushort.MaxValue || key.Any(c => c > 0x7F))
            throw new ArgumentException($"GGUF key '{key}' must be non-empty ASCII of at most 65535 bytes.");
    }

    private static void ValidateValue(string key, GgufValue v)
    {
        var ok = v.Type switch
        {
            GgufValueType.UInt8 => v.Value is byte,
            GgufValueType.Int8 => v.Value is sbyte,
            GgufValueType.UInt16 => v.Value is ushort,
            GgufValueType.Int16 => v.Value is short,
            GgufValueType.UInt32 => v.Value is uint,
            GgufValueType.Int32 => v.Value is int,
            GgufValueType.Float32 => v.Value is float,
            GgufValueType.Bool => v.Value is bool,
            GgufValueType.String => v.Value is string,
            GgufValueType.UInt64 => v.Value is ulong,
            GgufValueType.Int64 => v.Value is long,
            GgufValueType.Float64 => v.Value is double,
            GgufValueType.Array => v.ElementType is not null && v.Value is Array,
            _ => false,
        };
        if (!ok) throw new ArgumentException($"GGUF key '{key}': value of CLR type {v.Value.GetType().Name} does not match declared type {v.Describe()}.");
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Type)
        {
            case GgufValueType.Array:
                var arr = (Array)v.Value;
                w.Write((uint)v.ElementType!.Value);
                w.Write((ulong)arr.Length);
                WriteArray(w, v.ElementType.Value, arr);
                break;
            default:
                WriteScalar(w, v.Type, v.Value);
                break;
        }
    }

    private static void WriteArray(BinaryWriter w, GgufValueType elementType, Array arr)
    {
        switch (arr)
        {
            case int[] ints when elementType == GgufValueType.Int32:
                var buf = new byte[ints.Length * 4];
                for (var i = 0; i < ints.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(i * 4), ints[i]);
                w.Write(buf);
                return;
            case float[] floats when elementType == GgufValueType.Float32:
                var fb = new byte[floats.Length * 4];
                for (var i = 0; i < floats.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(fb.AsSpan(i * 4), floats[i]);
                w.Write(fb);
                return;
            case GgufValue[] nested:
                foreach (var item in nested)
                {
                    if (item.Type != elementType) throw new ArgumentException($"Nested GGUF array holds {item.Type}, declared {elementType}.");
                    WriteValue(w, item);
                }
                return;
        }
        foreach (var item in arr) WriteScalar(w, elementType, item!);
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write((byte)value); break;
            case GgufValueType.Int8: w.Write((sbyte)value); break;
            case GgufValueType.UInt16: w.Write((ushort)value); break;
            case GgufValueType.Int16: w.Write((short)value); break;
            case GgufValueType.UInt32: w.Write((uint)value); break;
            case GgufValueType.Int32: w.Write((int)value); break;
            case GgufValueType.Float32: w.Write((float)value); break;
            case GgufValueType.Bool: w.Write((byte)((bool)value ? 1 : 0)); break;
            case GgufValueType.String: WriteString(w, (string)value); break;
            case GgufValueType.UInt64: w.Write((ulong)value); break;
            case GgufValueType.Int64: w.Write((long)value); break;
            case GgufValueType.Float64: w.Write((double)value); break;
            default: throw new ArgumentException($"Cannot write GGUF scalar of type {type}.");
        }
    }
}
