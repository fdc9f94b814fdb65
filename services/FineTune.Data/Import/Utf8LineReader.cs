namespace FineTune.Data.Import;

/// <summary>
/// Reads a UTF-8 stream line by line as bytes, never holding more than <c>maxLineBytes</c> (+ one read chunk) in memory.
/// Skips a leading BOM, accepts LF and CRLF. A line longer than the limit is not buffered: it is skipped to its end and
/// reported with <see cref="Line.TooLong"/> and its full length, so a 50 MB single-line file costs one bounded buffer.
/// </summary>
public sealed class Utf8LineReader(Stream stream, int maxLineBytes, int chunkBytes = 64 * 1024)
{
    private byte[] _buffer = new byte[Math.Min(chunkBytes, maxLineBytes + 1) + 2];
    private int _start;
    private int _end;
    private bool _eof;
    private bool _bomChecked;
    private long _lineNumber;

    public readonly record struct Line(long Number, ReadOnlyMemory<byte> Bytes, bool TooLong, long Length)
    {
        /// <summary>Why this line cannot be read as text (over <paramref name="maxLineBytes"/>, or not UTF-8), or null.</summary>
        public DataIssue? Issue(int maxLineBytes, long? record) => TooLong
            ? DataIssue.Error(Number, record, null, $"line is {Length} bytes, over the {maxLineBytes}-byte limit")
            : Utf8Validation.Check(Bytes.Span, Number, record);
    }

    /// <summary>Bytes consumed from the stream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The next line (valid until the next call), or null at end of stream.</summary>
    public async ValueTask<Line?> ReadLineAsync(CancellationToken cancellationToken = default)
    {
        var scanFrom = _start;
        while (true)
        {
            var newline = _buffer.AsSpan(scanFrom, _end - scanFrom).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var lineEnd = scanFrom + newline;
                var line = Make(_start, lineEnd);
                _start = lineEnd + 1;
                return line;
            }
            if (_eof)
            {
                if (_start == _end) return null;
                var last = Make(_start, _end);
                _start = _end;
                return last;
            }
            if (_end - _start > maxLineBytes)
                return await SkipLongLineAsync(cancellationToken);

            // Make room: move the partial line to the front, grow (bounded by the limit) when it fills the buffer.
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
                Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, maxLineBytes + 2L));
            scanFrom = _end;
            await FillAsync(cancellationToken);
        }
    }

    private Line Make(int start, int end)
    {
        _lineNumber++;
        var length = end - start;
        if (length > 0 && _buffer[end - 1] == (byte)'\r') end--;
        if (end - start > maxLineBytes)
            return new Line(_lineNumber, ReadOnlyMemory<byte>.Empty, true, length);
        return new Line(_lineNumber, _buffer.AsMemory(start, end - start), false, length);
    }

    private async ValueTask<Line?> SkipLongLineAsync(CancellationToken cancellationToken)
    {
        _lineNumber++;
        long length = _end - _start;
        _start = _end = 0;
        while (true)
        {
            await FillAsync(cancellationToken);
            var newline = _buffer.AsSpan(0, _end).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                length += newline;
                _start = newline + 1;
                return new Line(_lineNumber, ReadOnlyMemory<byte>.Empty, true, length);
            }
            length += _end;
            _end = 0;
            if (_eof) return new Line(_lineNumber, ReadOnlyMemory<byte>.Empty, true, length);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        var read = await stream.ReadAsync(_buffer.AsMemory(_end, _buffer.Length - _end), cancellationToken);
        BytesRead += read;
        if (read == 0) { _eof = true; return; }
        var from = _end;
        _end += read;
        if (!_bomChecked && _end >= 3 || !_bomChecked && _eof)
        {
            _bomChecked = true;
            if (from == 0 && _end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
                _start = 3;
        }
    }
}
