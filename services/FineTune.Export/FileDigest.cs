// SHA-256 of a file, streamed (the artifacts can be many GB): the identity used for Ollama blobs and for idempotency.
using System.Security.Cryptography;

namespace FineTune.Export;

public static class FileDigest
{
    public static string Sha256Hex(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(file));
    }

    public static async Task<string> Sha256HexAsync(string path, CancellationToken ct = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
    }
}
