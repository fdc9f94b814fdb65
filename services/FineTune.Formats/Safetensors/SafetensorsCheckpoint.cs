// A checkpoint stored as one .safetensors file or as shards listed in model.safetensors.index.json
// ({"metadata": {"total_size": N}, "weight_map": {"<tensor>": "<shard file>"}}), as Hugging Face writes them.
using System.Text.Json;

namespace FineTune.Formats.Safetensors;

/// <summary>Read access to every tensor of a (possibly sharded) safetensors checkpoint. Dispose to unmap the files.</summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> _files;
    private readonly Dictionary<string, (SafetensorsFile File, SafetensorInfo Info)> _tensors;

    private SafetensorsCheckpoint(string source, List<SafetensorsFile> files,
        Dictionary<string, (SafetensorsFile, SafetensorInfo)> tensors)
    {
        Source = source;
        _files = files;
        _tensors = tensors;
    }

    /// <summary>The index file or the single .safetensors file this checkpoint was opened from.</summary>
    public string Source { get; }

    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Every tensor, ordered by name.</summary>
    public IEnumerable<SafetensorInfo> Tensors => _tensors.Values.Select(v => v.Info).OrderBy(t => t.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _tensors.Keys;

    public int Count => _tensors.Count;

    public long TotalBytes => _tensors.Values.Sum(v => v.Info.ByteLength);

    /// <summary>Whether <paramref name="folder"/> holds a safetensors checkpoint that <see cref="Open"/> would accept.</summary>
    public static bool Exists(string folder) =>
        File.Exists(Path.Combine(folder, IndexFileName)) || File.Exists(Path.Combine(folder, SingleFileName));

    /// <summary>
    /// Opens a checkpoint: a folder (model.safetensors.index.json, else model.safetensors, else its only *.safetensors),
    /// an index file, or a single .safetensors file.
    /// </summary>
    /// <exception cref="SafetensorsFormatException">A file is malformed or the index names missing files or tensors.</exception>
    public static SafetensorsCheckpoint Open(string path)
    {
        path = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            var index = Path.Combine(path, IndexFileName);
            if (File.Exists(index)) return OpenIndex(index);
            var single = Path.Combine(path, SingleFileName);
            if (File.Exists(single)) return OpenSingle(single);
            var candidates = Directory.GetFiles(path, "*.safetensors");
            return candidates.Length == 1
                ? OpenSingle(candidates[0])
                : throw new FileNotFoundException(candidates.Length == 0
                    ? $"{path}: no {SingleFileName} or {IndexFileName} in this folder"
                    : $"{path}: several .safetensors files but no {IndexFileName} saying which belong to the model");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found", path);
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : OpenSingle(path);
    }

    private static SafetensorsCheckpoint OpenSingle(string file)
    {
        var f = SafetensorsFile.Open(file);
        var tensors = f.Tensors.ToDictionary(t => t.Name, t => (f, t), StringComparer.Ordinal);
        return new SafetensorsCheckpoint(file, [f], tensors);
    }

    private static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var folder = Path.GetDirectoryName(indexPath)!;
        var opened = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            var tensors = new Dictionary<string, (SafetensorsFile, SafetensorInfo)>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                if (!opened.TryGetValue(shard, out var file))
                {
                    var shardPath = Path.Combine(folder, shard);
                    if (!File.Exists(shardPath))
                        throw new SafetensorsFormatException(indexPath, $"weight_map names shard '{shard}' (for '{name}'), which does not exist");
                    opened[shard] = file = SafetensorsFile.Open(shardPath);
                }
                if (!file.Contains(name))
                    throw new SafetensorsFormatException(indexPath, $"weight_map puts '{name}' in '{shard}', but that shard has no such tensor");
                tensors[name] = (file, file.Get(name));
            }
            return new SafetensorsCheckpoint(indexPath, [.. opened.Values], tensors);
        }
        catch
        {
            foreach (var f in opened.Values) f.Dispose();
            throw;
        }
    }

    private static List<(string Name, string Shard)> ReadWeightMap(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > SafetensorsHeader.DefaultMaxHeaderBytes)
            throw new SafetensorsFormatException(indexPath, $"index is {info.Length} bytes, over the {SafetensorsHeader.DefaultMaxHeaderBytes}-byte limit");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(indexPath)); }
        catch (JsonException e) { throw new SafetensorsFormatException(indexPath, $"not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(indexPath, "missing \"weight_map\" object");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var result = new List<(string, string)>();
            foreach (var p in map.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                    throw new SafetensorsFormatException(indexPath, $"weight_map lists '{p.Name}' twice");
                if (p.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsFormatException(indexPath, $"weight_map entry '{p.Name}' is not a file name");
                var shard = p.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
                    throw new SafetensorsFormatException(indexPath, $"weight_map entry '{p.Name}' names '{shard}', which is not a plain file name in this folder");
                result.Add((p.Name, shard));
            }
            if (result.Count == 0)
                throw new SafetensorsFormatException(indexPath, "weight_map is empty");
            return result;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafetensorInfo Get(string name) => Lookup(name).Info;

    /// <summary>The file that holds <paramref name="name"/>.</summary>
    public SafetensorsFile FileOf(string name) => Lookup(name).File;

    public ReadOnlySpan<byte> GetSpan(string name) => Lookup(name).File.GetSpan(name);

    public byte[] ReadBytes(string name) => Lookup(name).File.ReadBytes(name);

    public void CopyTo(string name, nint destination, long byteLength) => Lookup(name).File.CopyTo(name, destination, byteLength);

    private (SafetensorsFile File, SafetensorInfo Info) Lookup(string name) => _tensors.TryGetValue(name, out var v)
        ? v
        : throw new KeyNotFoundException($"{Source}: checkpoint has no tensor named '{name}'");

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
