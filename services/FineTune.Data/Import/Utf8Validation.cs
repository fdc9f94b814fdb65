using System.Text;
using System.Text.Unicode;

namespace FineTune.Data.Import;

/// <summary>
/// Uploads must be UTF-8. A record's bytes are checked before they are decoded, so a stray byte is reported as an error
/// naming its line and the bytes at fault, instead of being replaced by U+FFFD or failing deep inside the JSON reader.
/// </summary>
public static class Utf8Validation
{
    /// <summary>Null when <paramref name="bytes"/> (starting on file line <paramref name="line"/>) are valid UTF-8; otherwise the error.</summary>
    public static DataIssue? Check(ReadOnlySpan<byte> bytes, long line, long? record)
    {
        if (Utf8.IsValid(bytes)) return null;
        var offset = FirstInvalid(bytes);
        var before = bytes[..offset];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        var sample = bytes.Slice(offset, Math.Min(4, bytes.Length - offset)).ToArray();
        return DataIssue.Error(line + before.Count((byte)'\n'), record, null,
            $"invalid UTF-8 at byte {offset - lineStart + 1} of the line (bytes {string.Join(' ', sample.Select(b => b.ToString("X2")))}): " +
            "the file must be UTF-8; save it as UTF-8 (UTF-16 and Latin-1 files are not read)");
    }

    /// <summary>The error for a file that starts with a UTF-16 or UTF-32 byte-order mark, or null.</summary>
    public static DataIssue? CheckByteOrderMark(ReadOnlySpan<byte> head)
    {
        string? encoding = head switch
        {
            [0xFF, 0xFE, 0x00, 0x00, ..] or [0x00, 0x00, 0xFE, 0xFF, ..] => "UTF-32",
            [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..] => "UTF-16",
            _ => null,
        };
        return encoding is null ? null
            : DataIssue.Error(1, null, null, $"the file is {encoding} (it starts with a {encoding} byte-order mark), not UTF-8: save it as UTF-8");
    }

    /// <summary>Index of the first byte that does not start a valid UTF-8 sequence (the length when all are valid).</summary>
    public static int FirstInvalid(ReadOnlySpan<byte> bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return offset;
    }
}
