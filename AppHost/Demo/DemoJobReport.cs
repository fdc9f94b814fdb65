using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace FineTune.AppHost.Demo;

/// <summary>
/// The end of the demo on the console: the before/after table of the job's <c>eval</c> field (prompt excerpt, base answer,
/// fine-tuned answer, match), exact-match accuracy and held-out loss before → after, and where the artifacts are.
/// </summary>
internal static class DemoJobReport
{
    public static void Write(DemoConsole console, JsonElement job, IReadOnlyList<string> notes, int maxRows)
    {
        var id = job.GetProperty("id").GetString();
        var status = job.GetProperty("status").GetString();
        var fields = job.GetProperty("fields");
        if (status != "done")
        {
            console.Line($"demo: job {id} ended {status}{(Text(fields, "error") is { } error ? $": {error}" : "")}");
            if (status != "failed") return;
        }

        if (fields.TryGetProperty("eval", out var eval) && eval.ValueKind == JsonValueKind.Object)
        {
            var rows = eval.TryGetProperty("rows", out var r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().ToList() : [];
            if (rows.Count > 0)
            {
                var table = new Table().Title($"job {id}: held-out examples, before and after fine-tuning")
                    .AddColumn("prompt").AddColumn("base answer").AddColumn("fine-tuned answer").AddColumn("match");
                foreach (var row in rows.Take(maxRows))
                    table.AddRow(Cell(row, "prompt", 44), Cell(row, "base", 36), Cell(row, "finetuned", 56),
                        $"{Mark(row, "match_before")} → {Mark(row, "match")}");
                if (rows.Count > maxRows) table.Caption($"{maxRows} of {rows.Count} rows; all of them on the dashboard's job page");
                console.Write(table);
            }
            if (eval.TryGetProperty("summary", out var summary) && summary.ValueKind == JsonValueKind.Object)
            {
                var examples = Number(summary, "examples") is { } n ? $" on {n:0} held-out examples" : "";
                if (Number(summary, "exact_match_before") is { } before && Number(summary, "exact_match_after") is { } after)
                    console.Line($"demo: exact-match accuracy{examples}: {before:P1} before → {after:P1} after fine-tuning");
                if (Number(summary, "eval_loss_before") is { } lossBefore && Number(summary, "eval_loss_after") is { } lossAfter)
                    console.Line($"demo: held-out loss: {lossBefore:0.###} → {lossAfter:0.###}");
            }
        }

        if (fields.TryGetProperty("artifacts", out var artifacts) && artifacts.ValueKind == JsonValueKind.Object)
        {
            if (Text(artifacts, "adapter") is { } adapter) console.Line($"demo: PEFT adapter   {adapter}");
            if (Text(artifacts, "export_folder") is { } folder)
            {
                console.Line($"demo: export folder  {folder}");
                if (Directory.Exists(folder))
                    foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
                        console.Line($"demo:   {entry.Name}{(entry is FileInfo file ? $"  ({file.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)" : "/")}");
            }
        }
        foreach (var note in notes.Where(n => n.StartsWith("ollama", StringComparison.Ordinal))) console.Line($"demo: {note}");
    }

    private static string Cell(JsonElement row, string name, int width)
    {
        // A random base model's answers hold any token: control and format characters would break the table's layout.
        var text = new string([.. (Text(row, name) ?? "").Select(c => char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned || c == '\uFFFD' ? '·' : c)]);
        return Markup.Escape(text.Length > width ? text[..(width - 1)] + "…" : text);
    }

    private static string Mark(JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True ? "[green]✓[/]" : "[red]✗[/]";

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
}
