using System.Text;

namespace FineTune.Data.Import;

/// <summary>
/// Plain-text instruction blocks (seed 004, seed 001's Chinese template):
/// <code>
/// ### Instruction:      (or ### 指令:)
/// Tell me a joke.
/// ### Input:            (optional; or ### 输入:)
/// ### Response:         (or ### 回答:)
/// Why don't scientists trust atoms? …
/// </code>
/// Full-width colons are accepted. Each section's text is dedented (common leading whitespace removed) and trimmed.
/// </summary>
public static class TextBlockReader
{
    private enum Section { None, Instruction, Input, Response }

    public static async IAsyncEnumerable<ImportItem> ReadAsync(Stream stream, int maxLineBytes,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = new Utf8LineReader(stream, maxLineBytes);
        var sections = new Dictionary<Section, List<string>>();
        var current = Section.None;
        long record = 0, recordLine = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Issue(maxLineBytes, null) is { } unreadable)
            {
                yield return new ImportItem(record + 1, line.Number, null, [unreadable]);
                continue;
            }
            var text = Encoding.UTF8.GetString(line.Bytes.Span);
            var (marker, rest) = Marker(text);
            if (marker == Section.Instruction)
            {
                if (record > 0) yield return Finish(record, recordLine, sections);
                sections = new Dictionary<Section, List<string>>();
                record++;
                recordLine = line.Number;
            }
            if (marker != Section.None)
            {
                if (record == 0)
                {
                    record = 1;
                    recordLine = line.Number;
                    yield return new ImportItem(record, line.Number, null,
                        [DataIssue.Error(line.Number, record, null, $"'### {marker}:' before any '### Instruction:' block")]);
                    sections = new Dictionary<Section, List<string>>();
                    current = Section.None;
                    continue;
                }
                if (sections.ContainsKey(marker))
                    yield return new ImportItem(record, line.Number, null,
                        [DataIssue.Error(line.Number, record, marker.ToString().ToLowerInvariant(), $"'### {marker}:' appears twice in one block")]);
                current = marker;
                sections[current] = rest.Length > 0 ? [rest] : [];
                continue;
            }
            if (current == Section.None)
            {
                if (!string.IsNullOrWhiteSpace(text))
                {
                    yield return new ImportItem(0, line.Number, null,
                        [DataIssue.Error(line.Number, null, null, "text outside a '### Instruction:' / '### Response:' block")]);
                }
                continue;
            }
            sections[current].Add(text);
        }
        if (record > 0) yield return Finish(record, recordLine, sections);
        else yield return new ImportItem(0, 1, null, [DataIssue.Error(1, null, null, "no '### Instruction:' block found")]);
    }

    private static ImportItem Finish(long record, long line, Dictionary<Section, List<string>> sections)
    {
        var issues = new List<DataIssue>();
        var instruction = sections.TryGetValue(Section.Instruction, out var i) ? Dedent(i) : "";
        var input = sections.TryGetValue(Section.Input, out var inp) ? Dedent(inp) : "";
        if (!sections.TryGetValue(Section.Response, out var r))
        {
            issues.Add(DataIssue.Error(line, record, "response", "prompt-only record: no '### Response:' section"));
            return new ImportItem(record, line, null, issues);
        }
        var response = Dedent(r);
        if (instruction.Length == 0) issues.Add(DataIssue.Error(line, record, "instruction", "empty content"));
        if (response.Length == 0) issues.Add(DataIssue.Error(line, record, "response", "empty content"));
        if (issues.Count > 0) return new ImportItem(record, line, null, issues);
        var conversation = Conversation.Of(
            new ChatTurn(Roles.User, input.Length == 0 ? instruction : instruction + "\n\n" + input),
            new ChatTurn(Roles.Assistant, response));
        var ok = RecordRules.Check(conversation, line, record, "messages", issues);
        return new ImportItem(record, line, ok ? conversation : null, issues.Count == 0 ? null : issues);
    }

    private static (Section, string) Marker(string line)
    {
        var t = line.Trim();
        if (!t.StartsWith("###", StringComparison.Ordinal)) return (Section.None, "");
        var body = t[3..].TrimStart();
        var colon = body.IndexOfAny([':', '：']);
        if (colon < 0) return (Section.None, "");
        var name = body[..colon].Trim().ToLowerInvariant();
        var section = name switch
        {
            "instruction" or "指令" => Section.Instruction,
            "input" or "输入" => Section.Input,
            "response" or "回答" or "answer" or "output" or "输出" => Section.Response,
            _ => Section.None,
        };
        return (section, section == Section.None ? "" : body[(colon + 1)..].Trim());
    }

    /// <summary>Removes the common leading whitespace of the non-blank lines, trailing whitespace, and blank edges.</summary>
    internal static string Dedent(List<string> lines)
    {
        var nonBlank = lines.Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        if (nonBlank.Count == 0) return "";
        var indent = nonBlank.Min(l => l.Length - l.TrimStart(' ', '\t').Length);
        var body = lines.Select(l => (l.Length >= indent && string.IsNullOrWhiteSpace(l[..indent]) ? l[indent..] : l.TrimStart()).TrimEnd());
        return string.Join('\n', body).Trim('\n');
    }
}
