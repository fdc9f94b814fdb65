// Memory-mapped, lazy safetensors reader, written by hand (no safetensors library on this feed).
// Opening reads and validates only the header; tensor bytes are copied out of the mapping on request.
using System.IO.MemoryMappedFiles;

namespace FineTune.Formats.Safetensors;

/// <summary>One .safetensors file, memory-mapped. Thread-safe for concurrent reads; dispose to unmap.</summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafetensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePtr,
        long dataStart, SafetensorsHeader header)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePtr;
        _dataStart = dataStart;
        Header = header;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path { get; }

    public SafetensorsHeader Header { get; }

    /// <summary>Tensors in file order.</summary>
    public IReadOnlyList<SafetensorInfo> Tensors => Header.Tensors;

    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>Opens and validates a file. Memory use is bounded by the header size limit, never by the file's claims.</summary>
    /// <exception cref="SafetensorsFormatException">The file is malformed; the message names it and the problem.</exception>
    public static SafetensorsFile Open(string path, long maxHeaderBytes = SafetensorsHeader.DefaultMaxHeaderBytes)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: safetensors file not found", path);

        long fileLength;
        ulong headerLength;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            fileLength = fs.Length;
            if (fileLength < 8)
                throw new SafetensorsFormatException(path, $"file is {fileLength} bytes, shorter than the 8-byte header length");
            Span<byte> len = stackalloc byte[8];
            fs.ReadExactly(len);
            headerLength = BitConverter.IsLittleEndian ? BitConverter.ToUInt64(len) : System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(len);
        }

        if (headerLength == 0)
            throw new SafetensorsFormatException(path, "header length is 0");
        if (headerLength > (ulong)maxHeaderBytes)
            throw new SafetensorsFormatException(path, $"header length {headerLength} exceeds the {maxHeaderBytes}-byte limit (corrupt or hostile file)");
        if (headerLength > (ulong)(fileLength - 8))
            throw new SafetensorsFormatException(path, $"header length {headerLength} is larger than the rest of the file ({fileLength - 8} bytes; truncated?)");

        var dataStart = 8 + (long)headerLength;
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, capacity: 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* basePtr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
            acquired = true;
            basePtr += view.PointerOffset;
            var header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(basePtr + 8, (int)headerLength), fileLength - dataStart, path);
            return new SafetensorsFile(path, map, view, basePtr, dataStart, header);
        }
        catch
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorInfo Get(string name) => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'");

    /// <summary>The tensor's raw little-endian bytes, valid until the file is disposed.</summary>
    /// <remarks>For tensors over 2 GiB use <see cref="CopyTo(string, nint, long)"/>.</remarks>
    public ReadOnlySpan<byte> GetSpan(string name)
    {
        var t = Get(name);
        if (t.ByteLength > int.MaxValue)
            throw new NotSupportedException($"{Path}: tensor '{name}' is {t.ByteLength} bytes, too large for a span; use CopyTo");
        ThrowIfDisposed();
        return new ReadOnlySpan<byte>(_base + _dataStart + t.DataOffset, (int)t.ByteLength);
    }

    /// <summary>A copy of the tensor's raw little-endian bytes.</summary>
    public byte[] ReadBytes(string name) => GetSpan(name).ToArray();

    /// <summary>
    /// Copies the tensor's raw bytes to unmanaged memory of exactly <paramref name="byteLength"/> bytes, then lets the
    /// mapped pages go from the resident set (<see cref="MappedPages"/>): loaders read each tensor once.
    /// </summary>
    public void CopyTo(string name, nint destination, long byteLength)
    {
        var t = Get(name);
        if (byteLength != t.ByteLength)
            throw new ArgumentException($"{Path}: tensor '{name}' is {t.ByteLength} bytes, destination is {byteLength}", nameof(byteLength));
        ThrowIfDisposed();
        Buffer.MemoryCopy(_base + _dataStart + t.DataOffset, (void*)destination, byteLength, byteLength);
        MappedPages.Release(_base + _dataStart + t.DataOffset, byteLength);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
