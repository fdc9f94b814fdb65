using System.Text;
using FineTune.Data;
using FineTune.Data.Import;

namespace FineTune.Data.Tests;

/// <summary>Bytes that are not UTF-8 are an error naming the line and "UTF-8" in every container, never an exception.</summary>
public sealed class EncodingTests
{
    private static readonly byte[] Bad = [0xC3, 0x28, 0xFF, 0xFE];

    /// <summary>The text with "BAD" replaced by the bytes C3 28 FF FE (inside a JSON string on the line given).</summary>
    private static byte[] WithBadBytes(string text)
    {
        var at = text.IndexOf("BAD", StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(text[..at]), .. Bad, .. Encoding.UTF8.GetBytes(text[(at + 3)..])];
    }

    public static TheoryData<string, string, long> Containers => new()
    {
        { "jsonl", "{\"input\": \"q\", \"output\": \"a\"}\n{\"input\": \"xBADy\", \"output\": \"a\"}\n", 2 },
        { "json array", "[\n{\"input\": \"q\", \"output\": \"a\"},\n{\"input\": \"q\",\n \"output\": \"xBAD\"}\n]", 4 },
        { "csv", "q1,answer one\nq2,answer BAD two\n", 2 },
        { "text blocks", "### Instruction:\nq1\n### Response:\nanswer BAD\n", 4 },
    };

    [Theory]
    [MemberData(nameof(Containers))]
    public async Task InvalidUtf8IsAnErrorAtItsLine(string container, string text, long line)
    {
        var (records, issues, _) = await Imports.StreamAsync(new MemoryStream(WithBadBytes(text)), DatasetFormat.Auto, DatasetReader.DefaultMaxRecordBytes);

        var error = Assert.Single(issues, i => i.Message.Contains("UTF-8"));   // (text blocks: the block is also left without its answer)
        Assert.Equal(IssueSeverity.Error, error.Severity);
        Assert.True(line == error.Line, $"{container}: {error}");
        Assert.Contains("C3 28 FF FE", error.Message);
        Assert.DoesNotContain(records, r => r.Messages.Any(t => t.Content.Contains('\uFFFD')));
    }

    [Theory]
    [InlineData("utf-16", "UTF-16")]
    [InlineData("utf-32", "UTF-32")]
    public async Task AFileWithAnotherByteOrderMarkIsNamedAsSuch(string encoding, string name)
    {
        var bytes = Encoding.GetEncoding(encoding).GetPreamble().Concat(Encoding.GetEncoding(encoding).GetBytes("{\"input\": \"q\", \"output\": \"a\"}\n")).ToArray();

        var (records, issues, _) = await Imports.StreamAsync(new MemoryStream(bytes), DatasetFormat.Auto, DatasetReader.DefaultMaxRecordBytes);

        Assert.Empty(records);
        var error = Assert.Single(issues);
        Assert.Equal(1, error.Line);
        Assert.Contains(name, error.Message);
        Assert.Contains("UTF-8", error.Message);
    }

    [Fact]
    public async Task Latin1TextIsRejectedNotMangled()
    {
        var latin1 = Encoding.Latin1.GetBytes("{\"input\": \"caf\u00e9\", \"output\": \"cr\u00e8me\"}\n");

        var (records, issues, _) = await Imports.StreamAsync(new MemoryStream(latin1), DatasetFormat.Auto, DatasetReader.DefaultMaxRecordBytes);

        Assert.Empty(records);
        Assert.Contains("invalid UTF-8 at byte 15 of the line (bytes E9 22 2C 20)", Assert.Single(issues).Message);
    }

    [Fact]
    public void FirstInvalidFindsTheOffendingByteAfterMultiByteCharacters()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("日本\n語"), 0xE6, 0x97];   // a truncated 3-byte sequence at the end
        Assert.Equal(10, Utf8Validation.FirstInvalid(bytes));
        var issue = Utf8Validation.Check(bytes, line: 7, record: 3)!;
        Assert.Equal(8, issue.Line);
        Assert.Contains("byte 4 of the line", issue.Message);
    }
}
