using System.Text;
using System.Text.Json;

namespace FineTune.Data.Import;

/// <summary>
/// Reads an uploaded file of any supported format as a stream of <see cref="ImportItem"/>s. The container is detected from
/// the first non-blank bytes ('[' JSON array, '{' JSON lines, '###' text blocks, otherwise CSV), unless the format is forced.
/// Memory is bounded by <c>maxRecordBytes</c> (one record) plus a 64 KiB read buffer, whatever the file size.
/// </summary>
public sealed class DatasetReader(DatasetFormat format = DatasetFormat.Auto, int maxRecordBytes = DatasetReader.DefaultMaxRecordBytes)
{
    public const int DefaultMaxRecordBytes = 8 * 1024 * 1024;

    private readonly HashSet<DatasetFormat> _shapes = [];

    /// <summary>"jsonl", "json", "text" or "csv", known once reading has started.</summary>
    public string? Container { get; private set; }

    /// <summary>The detected format: "jsonl/chat", "json/input-output", "text", "csv", or "jsonl/mixed".</summary>
    public string DetectedFormat => Container switch
    {
        "json" or "jsonl" => $"{Container}/{(_shapes.Count == 1 ? DatasetFormats.Name(_shapes.First()) : _shapes.Count == 0 ? "unknown" : "mixed")}",
        null => "unknown",
        _ => Container,
    };

    public async IAsyncEnumerable<ImportItem> ReadAsync(Stream stream,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Peek until the first non-blank byte (bounded: a file of only blanks is simply empty).
        var head = new byte[4096];
        var length = 0;
        int firstByte = -1, firstAt = -1;
        while (length < head.Length)
        {
            var n = await stream.ReadAsync(head.AsMemory(length), cancellationToken);
            if (n == 0) break;
            length += n;
            if (firstAt < 0)
            {
                firstAt = FirstNonBlank(head.AsSpan(0, length));
                if (firstAt >= 0) firstByte = head[firstAt];
            }
            if (firstByte is '[' or '{') break; // JSON: no need to look further
        }
        var body = new PrefixedStream(head, length, stream);
        if (Utf8Validation.CheckByteOrderMark(head.AsSpan(0, length)) is { } wrongEncoding)
        {
            yield return new ImportItem(0, 1, null, [wrongEncoding]);
            yield break;
        }
        if (firstByte < 0)
        {
            yield return new ImportItem(0, 1, null, [DataIssue.Error(1, null, null, "the file is empty")]);
            yield break;
        }
        var startsWithHashes = TextMarker.IsMatch(Encoding.UTF8.GetString(head, 0, length));
        Container = format switch
        {
            DatasetFormat.Text => "text",
            DatasetFormat.Csv => "csv",
            _ when firstByte == '[' => "json",
            _ when firstByte == '{' => "jsonl",
            DatasetFormat.Auto when startsWithHashes => "text",
            DatasetFormat.Auto => "csv",
            _ => null,
        };
        if (Container is null)
        {
            yield return new ImportItem(0, 1, null, [DataIssue.Error(1, null, null,
                $"format '{DatasetFormats.Name(format)}' is JSON, but the file does not start with '[' or '{{'")]);
            yield break;
        }
        var items = Container switch
        {
            "json" => ReadArrayAsync(body, cancellationToken),
            "jsonl" => ReadLinesAsync(body, cancellationToken),
            "text" => TextBlockReader.ReadAsync(body, maxRecordBytes, cancellationToken),
            _ => CsvReader.ReadAsync(body, maxRecordBytes, cancellationToken),
        };
        await foreach (var item in items)
            yield return item;
    }

    /// <summary>A "### Instruction:" (or "### 指令:") line within the first 4 KiB makes an auto-detected file text blocks.</summary>
    private static readonly System.Text.RegularExpressions.Regex TextMarker =
        new(@"^\s*###\s*(Instruction|指令)\s*[:：]", System.Text.RegularExpressions.RegexOptions.Multiline | System.Text.RegularExpressions.RegexOptions.IgnoreCase);

    private static int FirstNonBlank(ReadOnlySpan<byte> bytes)
    {
        var start = bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        for (var i = start; i < bytes.Length; i++)
            if (bytes[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        return -1;
    }

    private async IAsyncEnumerable<ImportItem> ReadLinesAsync(Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var reader = new Utf8LineReader(stream, maxRecordBytes);
        long record = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.TooLong && line.Bytes.Span.Trim(" \t"u8).IsEmpty) continue;
            record++;
            if (line.TooLong)
            {
                yield return new ImportItem(record, line.Number, null,
                    [DataIssue.Error(line.Number, record, null, $"record is {line.Length} bytes, over the {maxRecordBytes}-byte limit")]);
                continue;
            }
            yield return Parse(line.Bytes, line.Number, record);
        }
    }

    private async IAsyncEnumerable<ImportItem> ReadArrayAsync(Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var scanner = new JsonArrayScanner(stream, maxRecordBytes);
        await foreach (var element in scanner.ReadAsync(cancellationToken))
        {
            if (element.StructureError is { } error)
                yield return new ImportItem(element.Record, element.Line, null,
                    [DataIssue.Error(element.Line, element.Record == 0 ? null : element.Record, null, "invalid JSON: " + error)]);
            else if (element.TooLong)
                yield return new ImportItem(element.Record, element.Line, null,
                    [DataIssue.Error(element.Line, element.Record, null, $"record is {element.Length} bytes, over the {maxRecordBytes}-byte limit")]);
            else
                yield return Parse(element.Bytes, element.Line, element.Record);
        }
    }

    private ImportItem Parse(ReadOnlyMemory<byte> bytes, long line, long record)
    {
        if (Utf8Validation.Check(bytes.Span, line, record) is { } encoding)
            return new ImportItem(record, encoding.Line ?? line, null, [encoding]);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            var at = line + (ex.LineNumber ?? 0);
            var message = ex.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal) is var p and >= 0 ? p
                : message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
            return new ImportItem(record, at, null,
                [DataIssue.Error(at, record, null, $"invalid JSON (byte {(ex.BytePositionInLine ?? 0) + 1} of the line): {message.TrimEnd('.', ' ')}")]);
        }
        using (document)
        {
            var issues = new List<DataIssue>();
            var shape = format == DatasetFormat.Auto ? JsonRecordMapper.DetectShape(document.RootElement) : format;
            if (shape != DatasetFormat.Auto) _shapes.Add(shape);
            var conversation = JsonRecordMapper.Map(document.RootElement, format, line, record, issues);
            return new ImportItem(record, line, conversation, issues.Count == 0 ? null : issues);
        }
    }
}
