namespace FineTune.Data;

/// <summary>
/// The shared data folder (configuration key <c>FineTune:DataRoot</c>, env <c>FineTune__DataRoot</c>): an absolute path.
/// Layout: <c>datasets/&lt;id&gt;/</c>, <c>shards/&lt;hash&gt;/</c>, <c>jobs/&lt;jobId&gt;/</c>, <c>models/&lt;name&gt;/</c>.
/// Every path below is built from validated ids and hashes only; user-given names never reach the filesystem.
/// </summary>
public sealed class DataRoot
{
    public const string ConfigurationKey = "FineTune:DataRoot";

    /// <summary>The one way every service resolves the data root: the value configured under <see cref="ConfigurationKey"/>
    /// (<c>configuration[DataRoot.ConfigurationKey]</c>); missing or relative is a start-up error that says what to set.</summary>
    public static DataRoot FromConfigured(string? configured) =>
        string.IsNullOrWhiteSpace(configured)
            ? throw new InvalidOperationException($"Configuration '{ConfigurationKey}' (env FineTune__DataRoot) is missing: the shared data folder, an absolute path.")
            : new DataRoot(configured);

    public DataRoot(string path)
    {
        if (string.IsNullOrWhiteSpace(path) || !System.IO.Path.IsPathRooted(path))
            throw new ArgumentException($"{ConfigurationKey} must be an absolute path, got '{path}'.", nameof(path));
        Path = System.IO.Path.GetFullPath(path);
    }

    public string Path { get; }
    public string Datasets => System.IO.Path.Combine(Path, "datasets");
    public string Shards => System.IO.Path.Combine(Path, "shards");
    public string Models => System.IO.Path.Combine(Path, "models");

    public string Dataset(string id) => System.IO.Path.Combine(Datasets, DatasetId.Require(id));
    public string Shard(string hash) => System.IO.Path.Combine(Shards, ContentHash.Require(hash));

    /// <summary>A model folder by name: a single folder-name segment (letters, digits, '.', '-', '_'), never a path.</summary>
    public string Model(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || name is "." or ".." || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            throw new ArgumentException($"'{name}' is not a model name (letters, digits, '.', '-', '_').", nameof(name));
        return System.IO.Path.Combine(Models, name);
    }
}

/// <summary>Dataset ids: the first 16 hex digits of the dataset's content hash.</summary>
public static class DatasetId
{
    public const int Length = 16;

    public static bool IsValid(string? id) => id is { Length: Length } && id.All(char.IsAsciiHexDigitLower);

    public static string Require(string id) =>
        IsValid(id) ? id : throw new ArgumentException($"'{id}' is not a dataset id (16 lowercase hex digits).", nameof(id));

    public static string FromHash(string hash) => ContentHash.Require(hash)[..Length];
}

/// <summary>SHA-256 content hashes as 64 lowercase hex digits.</summary>
public static class ContentHash
{
    public static bool IsValid(string? hash) => hash is { Length: 64 } && hash.All(char.IsAsciiHexDigitLower);

    public static string Require(string hash) =>
        IsValid(hash) ? hash : throw new ArgumentException($"'{hash}' is not a content hash (64 lowercase hex digits).", nameof(hash));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}
