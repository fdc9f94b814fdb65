using FineTune.Data.IO;

namespace Dataset.Api.Model;

/// <summary>Passes reads through until more than <c>limit</c> bytes were read, then throws <see cref="UploadTooLargeException"/>.</summary>
public sealed class LimitedReadStream(Stream inner, long limit) : ReadOnlyForwardStream
{
    private long _read;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        _read += n;
        if (_read > limit) throw new UploadTooLargeException(limit);
        return n;
    }
}

public sealed class UploadTooLargeException(long limit) : IOException($"the upload is larger than the {limit}-byte limit")
{
    public long Limit { get; } = limit;
}
