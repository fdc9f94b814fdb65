using FineTune.Data.IO;

namespace FineTune.Data.Storage;

/// <summary>Counts the bytes read through it.</summary>
internal sealed class CountingStream(Stream inner) : ReadOnlyForwardStream
{
    public long BytesRead { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        BytesRead += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        BytesRead += n;
        return n;
    }
}
