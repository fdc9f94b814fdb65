using System.Text;

namespace FineTune.Data.Import;

/// <summary>
/// Two-column CSV (prompt, answer), RFC 4180 quoting (quoted fields may hold commas, quotes as "" and newlines).
/// Tab-separated when the first line has a tab and no comma. A first row whose cells are both column names
/// (input/output, instruction/output, prompt/response, question/answer, 问题/回答…) is a header and skipped.
/// </summary>
public static class CsvReader
{
    private static readonly HashSet<string> HeaderNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "input", "output", "instruction", "prompt", "response", "completion", "question", "answer", "user", "assistant",
        "q", "a", "query", "reply", "问题", "回答", "指令", "输入", "输出", "答案",
    };

    public static async IAsyncEnumerable<ImportItem> ReadAsync(Stream stream, int maxLineBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = new Utf8LineReader(stream, maxLineBytes);
        char? delimiter = null;
        long record = 0;
        var cells = new List<string>();
        var cell = new StringBuilder();
        var inQuotes = false;
        long rowLine = 0;
        var first = true;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Issue(maxLineBytes, record + 1) is { } unreadable)
            {
                record++;
                yield return new ImportItem(record, line.Number, null, [unreadable]);
                inQuotes = false; cells.Clear(); cell.Clear();
                continue;
            }
            var text = Encoding.UTF8.GetString(line.Bytes.Span);
            delimiter ??= text.Contains('\t') && !text.Contains(',') ? '\t' : ',';
            if (!inQuotes)
            {
                if (text.Length == 0) continue;
                rowLine = line.Number;
            }
            else cell.Append('\n');
            inQuotes = SplitCells(text, delimiter.Value, inQuotes, cells, cell);
            if (inQuotes) continue;
            cells.Add(cell.ToString());
            cell.Clear();
            var row = cells.ToArray();
            cells.Clear();
            if (first)
            {
                first = false;
                if (row.Length == 2 && HeaderNames.Contains(row[0].Trim()) && HeaderNames.Contains(row[1].Trim())) continue;
            }
            record++;
            yield return ToItem(row, record, rowLine);
        }
        if (inQuotes)
        {
            record++;
            yield return new ImportItem(record, rowLine, null, [DataIssue.Error(rowLine, record, null, "unterminated quoted field at end of file")]);
        }
    }

    /// <summary>
    /// Adds one physical line's characters to the row: closed cells go to <paramref name="cells"/>, the open one stays in
    /// <paramref name="cell"/>. Returns whether a quoted field is still open at the end of the line.
    /// </summary>
    private static bool SplitCells(string text, char delimiter, bool inQuotes, List<string> cells, StringBuilder cell)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c == '"')
                {
                    if (i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                    else inQuotes = false;
                }
                else cell.Append(c);
            }
            else if (c == '"' && cell.Length == 0) inQuotes = true;
            else if (c == delimiter) { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(c);
        }
        return inQuotes;
    }

    /// <summary>A complete row as a user → assistant record, or its error (column count, empty answer, record rules).</summary>
    private static ImportItem ToItem(string[] row, long record, long rowLine)
    {
        if (row.Length != 2)
            return new ImportItem(record, rowLine, null,
                [DataIssue.Error(rowLine, record, null, $"expected 2 columns (prompt, answer), found {row.Length}")]);
        var issues = new List<DataIssue>();
        if (string.IsNullOrWhiteSpace(row[1]))
        {
            issues.Add(DataIssue.Error(rowLine, record, "column 2", "prompt-only record: the answer column is empty"));
            return new ImportItem(record, rowLine, null, issues);
        }
        var conversation = Conversation.Of(new ChatTurn(Roles.User, row[0]), new ChatTurn(Roles.Assistant, row[1]));
        var ok = RecordRules.Check(conversation, rowLine, record, "messages", issues);
        return new ImportItem(record, rowLine, ok ? conversation : null, issues.Count == 0 ? null : issues);
    }
}
