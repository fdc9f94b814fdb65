// Safetensors header parsing and validation, written by hand: no library on this feed reads safetensors.
// Format (huggingface/safetensors): u64 little-endian N, then N bytes of UTF-8 JSON
//   { "__metadata__": {str: str}?, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ... }
// then the data section; offsets are relative to its start. Like the reference implementation we require the
// tensors to tile the data section exactly: no overlap, no gap, no trailing bytes.
using System.Text.Json;

namespace FineTune.Formats.Safetensors;

/// <summary>A parsed, validated safetensors header.</summary>
public sealed class SafetensorsHeader
{
    /// <summary>The largest header the reader accepts (the reference implementation's bound).</summary>
    public const long DefaultMaxHeaderBytes = 100_000_000;

    private SafetensorsHeader(IReadOnlyList<SafetensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>Tensors in data-offset order.</summary>
    public IReadOnlyList<SafetensorInfo> Tensors { get; }

    /// <summary>The optional "__metadata__" map (e.g. "format": "pt").</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Parses and validates the JSON header against a data section of <paramref name="dataLength"/> bytes.</summary>
    /// <exception cref="SafetensorsFormatException">Anything malformed; the message names <paramref name="path"/>.</exception>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string path)
    {
        if (json.Length == 0 || json[0] != (byte)'{')
            throw new SafetensorsFormatException(path, "header does not start with '{' (not a safetensors file?)");
        if (!System.Text.Unicode.Utf8.IsValid(json))
            throw new SafetensorsFormatException(path, "header is not valid UTF-8");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(path, $"header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(path, "header JSON is not an object");

            var seen = new HashSet<string>(StringComparer.Ordinal);
            var tensors = new List<SafetensorInfo>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in root.EnumerateObject())
            {
                if (!seen.Add(prop.Name))
                    throw new SafetensorsFormatException(path, $"duplicate header key '{prop.Name}'");
                if (prop.Name == "__metadata__")
                    ReadMetadata(prop.Value, metadata, path);
                else
                    tensors.Add(ReadTensor(prop.Name, prop.Value, path));
            }

            tensors.Sort((a, b) => a.DataOffset != b.DataOffset
                ? a.DataOffset.CompareTo(b.DataOffset)
                : a.ByteLength.CompareTo(b.ByteLength));
            CheckTiling(tensors, dataLength, path);
            return new SafetensorsHeader(tensors, metadata);
        }
    }

    /// <summary>Serialises a header for the given tensors, padded with spaces to a multiple of 8 bytes.</summary>
    public static byte[] Serialize(IEnumerable<SafetensorInfo> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType.HeaderName());
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(t.DataOffset);
                w.WriteNumberValue(t.DataOffset + t.ByteLength);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var padded = (ms.Length + 7) / 8 * 8;
        while (ms.Length < padded) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, "\"__metadata__\" is not an object of strings");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(path, $"\"__metadata__\".\"{p.Name}\" is not a string");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!))
                throw new SafetensorsFormatException(path, $"duplicate \"__metadata__\" key '{p.Name}'");
        }
    }

    private static SafetensorInfo ReadTensor(string name, JsonElement value, string path)
    {
        if (name.Length == 0)
            throw new SafetensorsFormatException(path, "a tensor has an empty name");
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(path, $"tensor '{name}': entry is not an object");

        if (!value.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw new SafetensorsFormatException(path, $"tensor '{name}': missing or non-string \"dtype\"");
        var dtypeText = dtypeEl.GetString();
        if (!SafetensorDTypes.TryParse(dtypeText, out var dtype))
            throw new SafetensorsFormatException(path,
                $"tensor '{name}': unknown dtype '{dtypeText}' (supported: {SafetensorDTypes.Supported})");

        if (!value.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw new SafetensorsFormatException(path, $"tensor '{name}': missing or non-array \"shape\"");
        var shape = new long[shapeEl.GetArrayLength()];
        var i = 0;
        long elements = 1;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new SafetensorsFormatException(path, $"tensor '{name}': shape entry {i} is not a non-negative integer");
            shape[i++] = dim;
            try { elements = checked(elements * dim); }
            catch (OverflowException)
            {
                throw new SafetensorsFormatException(path, $"tensor '{name}': shape [{string.Join(", ", shape.Take(i))}...] overflows");
            }
        }

        if (!value.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new SafetensorsFormatException(path, $"tensor '{name}': \"data_offsets\" must be an array [begin, end]");
        var begin = ReadOffset(offEl[0], name, path);
        var end = ReadOffset(offEl[1], name, path);
        if (end < begin)
            throw new SafetensorsFormatException(path, $"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");

        long expected;
        try { expected = checked(elements * dtype.ElementSize()); }
        catch (OverflowException)
        {
            throw new SafetensorsFormatException(path, $"tensor '{name}': byte size of shape [{string.Join(", ", shape)}] overflows");
        }
        if (end - begin != expected)
            throw new SafetensorsFormatException(path,
                $"tensor '{name}': {dtype}[{string.Join(", ", shape)}] needs {expected} bytes but data_offsets [{begin}, {end}] hold {end - begin}");

        return new SafetensorInfo(name, dtype, shape, begin, end - begin);
    }

    private static long ReadOffset(JsonElement el, string name, string path)
    {
        if (el.ValueKind != JsonValueKind.Number || !el.TryGetInt64(out var v) || v < 0)
            throw new SafetensorsFormatException(path, $"tensor '{name}': data_offsets entries must be non-negative integers");
        return v;
    }

    private static void CheckTiling(List<SafetensorInfo> sorted, long dataLength, string path)
    {
        long cursor = 0;
        SafetensorInfo? previous = null;
        foreach (var t in sorted)
        {
            var end = t.DataOffset + t.ByteLength;
            if (end > dataLength)
                throw new SafetensorsFormatException(path,
                    $"tensor '{t.Name}': data_offsets [{t.DataOffset}, {end}] extend past the data section ({dataLength} bytes; file truncated?)");
            if (t.DataOffset < cursor)
                throw new SafetensorsFormatException(path,
                    $"tensors '{previous!.Name}' [{previous.DataOffset}, {previous.DataOffset + previous.ByteLength}] and '{t.Name}' [{t.DataOffset}, {end}] overlap");
            if (t.DataOffset > cursor)
                throw new SafetensorsFormatException(path,
                    $"gap of {t.DataOffset - cursor} bytes in the data section before tensor '{t.Name}' (offset {t.DataOffset})");
            cursor = end;
            previous = t;
        }
        if (cursor != dataLength)
            throw new SafetensorsFormatException(path,
                $"data section is {dataLength} bytes but the tensors cover only {cursor} ({dataLength - cursor} trailing bytes)");
    }
}
