using FineTune.Data;

namespace FineTune.Data.Tests;

/// <summary>Malformed inputs of every kind are reported with the right line, record and field.</summary>
public sealed class ValidationTests
{
    private const string Ok = """{"instruction": "q", "output": "an answer"}""";

    public static TheoryData<string, string, long, string?, string> Malformed => new()
    {
        { "jsonl syntax", $"{Ok}\n{Ok}\n{{\"instruction\": \"x\", \"output\": \n{Ok}\n", 3, null, "invalid JSON" },
        { "jsonl prompt-only", $"{Ok}\n{{\"instruction\": \"only a prompt\"}}\n", 2, "output", "prompt-only" },
        { "jsonl not an object", $"{Ok}\n[1, 2]\n", 2, null, "expected a JSON object" },
        { "missing input", """{"output": "an answer"}""", 1, "input", "missing required field 'input'" },
        { "empty output", """{"input": "q", "output": "  "}""", 1, "output", "empty content" },
        { "chat unknown role", """{"messages": [{"role": "user", "content": "hi"}, {"role": "bot", "content": "hello"}]}""", 1, "messages[1].role", "unknown role 'bot'" },
        { "chat empty content", $"{Ok}\n{Ok}\n" + """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}""", 3, "messages[1]", "empty content" },
        { "chat prompt-only", """{"messages": [{"role": "user", "content": "hi"}]}""", 1, "messages", "prompt-only" },
        { "chat content not a string", """{"messages": [{"role": "user", "content": ["hi"]}, {"role": "assistant", "content": "hello"}]}""", 1, "messages[0].content", "must be a string" },
        { "chat system not first", """{"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": "be nice"}, {"role": "assistant", "content": "hello"}]}""", 1, "messages[1]", "system message" },
        { "chat messages missing", """{"messages": null}""", 1, "messages", "must be an array" },
        { "sharegpt unknown from", """{"conversations": [{"from": "human", "value": "hi"}, {"from": "robot", "value": "hello"}]}""", 1, "conversations[1].from", "unknown role 'robot'" },
        { "unknown shape", """{"question": "q", "answer": "a"}""", 1, null, "cannot tell the record's format" },
        { "array element syntax", "[\n {\"input\": \"a\", \"output\": \"bbb\"},\n {\"input\": \"b\",\n  \"output\": bbb}\n]", 4, null, "invalid JSON" },
        { "array missing comma", "[\n {\"input\": \"a\", \"output\": \"bbb\"}\n {\"input\": \"b\", \"output\": \"ccc\"}\n]", 3, null, "expected ',' or ']'" },
        { "array not closed", "[\n {\"input\": \"a\", \"output\": \"bbb\"},\n", 3, null, "not closed" },
        { "array trailing comma", "[\n {\"input\": \"a\", \"output\": \"bbb\"},\n]", 3, null, "trailing comma" },
        { "array unterminated record", "[\n {\"input\": \"a\", \"output\": \"bbb\"},\n {\"input\": \"b\",\n", 3, null, "inside record 2" },
        { "text without response", "### Instruction:\nq1\n### Response:\nanswer one\n### Instruction:\nq2 with no answer\n", 5, "response", "prompt-only" },
        { "text stray lines", "hello there\n### Instruction:\nq1\n### Response:\nanswer one\n", 1, null, "outside" },
        { "csv column count", "prompt,answer\nq1,answer one\nq2,answer,extra\n", 3, null, "expected 2 columns" },
        { "csv empty answer", "q1,answer one\nq2,\n", 2, "column 2", "prompt-only" },
        { "csv unterminated quote", "q1,answer one\nq2,\"open\n", 2, null, "unterminated" },
        { "empty file", "  \n\n", 1, null, "empty" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedInputIsReportedAtItsLineAndField(string kind, string text, long line, string? field, string message)
    {
        var (_, issues, _) = await Imports.TextAsync(text);
        var errors = issues.Where(i => i.Severity == IssueSeverity.Error).ToList();
        Assert.True(errors.Count > 0, $"{kind}: no error reported");
        Assert.True(errors.Any(e => e.Line == line && e.Field == field && e.Message.Contains(message, StringComparison.Ordinal)),
            $"{kind}: expected line {line}, field '{field}', '{message}'; got: {string.Join(" | ", errors)}");
    }

    [Fact]
    public async Task DuplicatesAndShortAnswersAreWarningsNotErrors()
    {
        var (records, issues, _) = await Imports.TextAsync($"{Ok}\n{Ok}\n" + """{"input": "2+2?", "output": "4"}""");
        Assert.Equal(3, records.Count); // the reader does not drop; the store reports duplicates (see DatasetStoreTests)
        Assert.All(issues, i => Assert.Equal(IssueSeverity.Warning, i.Severity));
        Assert.Contains(issues, i => i.Line == 3 && i.Message.Contains("very short answer"));
    }

    [Fact]
    public async Task LongLineIsRejectedWithoutBufferingIt()
    {
        var text = $"{Ok}\n{{\"instruction\": \"{new string('x', 5000)}\", \"output\": \"y\"}}\n{Ok}\n";
        var (records, issues, _) = await Imports.TextAsync(text, maxRecordBytes: 1024);
        Assert.Equal(2, records.Count);
        var error = Assert.Single(issues, i => i.Severity == IssueSeverity.Error);
        Assert.Equal(2, error.Line);
        Assert.Contains("over the 1024-byte limit", error.Message);
    }
}
