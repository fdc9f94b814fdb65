using FineTune.Data.IO;

namespace FineTune.Data.Import;

/// <summary>A read-only stream that yields <c>prefix</c> then the rest of <c>inner</c> (used after peeking at the first bytes).</summary>
internal sealed class PrefixedStream(byte[] prefix, int prefixLength, Stream inner) : ReadOnlyForwardStream
{
    private int _position;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < prefixLength)
        {
            var n = Math.Min(buffer.Length, prefixLength - _position);
            prefix.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }
        return await inner.ReadAsync(buffer, cancellationToken);
    }
}
