namespace FineTune.Data.Import;

/// <summary>
/// Splits a top-level JSON array <c>[ {…}, {…} ]</c> into its elements without parsing the whole document: a byte-level
/// state machine tracks strings, escapes and nesting depth, and counts lines, so each element can be parsed on its own
/// (with <see cref="System.Text.Json.JsonDocument"/>) and reported with its starting line. An element larger than
/// <c>maxElementBytes</c> is skipped (reported as too long) instead of buffered. Structural errors between elements
/// (missing comma, trailing data, unterminated array) end the scan with an error item.
/// </summary>
public sealed class JsonArrayScanner(Stream stream, int maxElementBytes, int chunkBytes = 64 * 1024)
{
    public readonly record struct Element(long Record, long Line, ReadOnlyMemory<byte> Bytes, bool TooLong, long Length, string? StructureError);

    private enum State { BeforeArray, BeforeElement, AfterComma, InElement, AfterElement, AfterArray }

    public long BytesRead { get; private set; }

    // Long on purpose: one byte-at-a-time state machine (the State enum plus string/escape/depth flags) whose states
    // yield elements and errors mid-chunk; an async iterator cannot hand that state to helpers by ref, so split up it
    // would need the whole state in fields and lose the one place where every transition is visible.
    public async IAsyncEnumerable<Element> ReadAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var chunk = new byte[chunkBytes];
        var element = new byte[Math.Min(chunkBytes, maxElementBytes)];
        int elementLength = 0;
        long elementTotal = 0, elementLine = 0, record = 0, line = 1;
        int depth = 0;
        bool inString = false, escaped = false, first = true;
        var state = State.BeforeArray;

        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            BytesRead += read;
            if (read == 0) break;
            var i = 0;
            if (first)
            {
                first = false;
                if (read >= 3 && chunk[0] == 0xEF && chunk[1] == 0xBB && chunk[2] == 0xBF) i = 3;
            }
            for (; i < read; i++)
            {
                var b = chunk[i];
                if (state == State.InElement)
                {
                    if (elementTotal < maxElementBytes)
                    {
                        if (elementLength == element.Length)
                            Array.Resize(ref element, (int)Math.Min((long)element.Length * 2, maxElementBytes));
                        element[elementLength++] = b;
                    }
                    elementTotal++;
                    if (b == (byte)'\n') line++;
                    if (inString)
                    {
                        if (escaped) escaped = false;
                        else if (b == (byte)'\\') escaped = true;
                        else if (b == (byte)'"') inString = false;
                        continue;
                    }
                    if (b == (byte)'"') inString = true;
                    else if (b is (byte)'{' or (byte)'[') depth++;
                    else if (b is (byte)'}' or (byte)']') depth--;
                    if (depth == 0)
                    {
                        state = State.AfterElement;
                        var tooLong = elementTotal > maxElementBytes;
                        yield return new Element(record, elementLine, tooLong ? ReadOnlyMemory<byte>.Empty : element.AsMemory(0, elementLength), tooLong, elementTotal, null);
                        elementLength = 0;
                    }
                    continue;
                }
                if (b == (byte)'\n') { line++; continue; }
                if (b is (byte)' ' or (byte)'\t' or (byte)'\r') continue;
                switch (state)
                {
                    case State.BeforeArray when b == (byte)'[':
                        state = State.BeforeElement;
                        break;
                    case State.BeforeElement when b == (byte)']':
                    case State.AfterElement when b == (byte)']':
                        state = State.AfterArray;
                        break;
                    case State.AfterElement when b == (byte)',':
                        state = State.AfterComma;
                        break;
                    case State.AfterComma when b == (byte)']':
                        yield return new Element(record, line, ReadOnlyMemory<byte>.Empty, false, 0, "trailing comma before ']'");
                        yield break;
                    case State.BeforeElement or State.AfterComma:
                        record++;
                        elementLine = line;
                        state = State.InElement;
                        element[0] = b;
                        elementLength = 1;
                        elementTotal = 1;
                        depth = 1;
                        inString = false;
                        escaped = false;
                        if (b != (byte)'{')
                        {
                            yield return new Element(record, line, ReadOnlyMemory<byte>.Empty, false, 1,
                                $"expected a JSON object for record {record}, found '{(char)b}'");
                            yield break;
                        }
                        break;
                    default:
                        var expected = state switch
                        {
                            State.BeforeArray => "'['",
                            State.AfterElement => "',' or ']' after the record",
                            State.AfterArray => "end of file after the closing ']'",
                            _ => "a record",
                        };
                        yield return new Element(record, line, ReadOnlyMemory<byte>.Empty, false, 0,
                            $"unexpected character '{(char)b}', expected {expected}");
                        yield break;
                }
            }
        }
        if (state != State.AfterArray)
        {
            var what = state == State.InElement
                ? $"unexpected end of file inside record {record} (started on line {elementLine})"
                : state == State.BeforeArray ? "the file is empty" : "unexpected end of file: the array is not closed with ']'";
            yield return new Element(record, state == State.InElement ? elementLine : line, ReadOnlyMemory<byte>.Empty, false, 0, what);
        }
    }
}
