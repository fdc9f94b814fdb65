using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Cli.Commands;

/// <summary>
/// `ft tokenize &lt;model&gt; --jsonl FILE|-`: one {"text": …} object per input line in, one
/// {"line", "ids", "tokens", "decoded"} object per line out, streaming (one tokenizer load for the whole file).
/// A bad line (invalid JSON, no string "text") does not stop the run: it gets {"line", "error"} in the output, in its
/// place, and a "line N: …" message on stderr; the exit code is then 1. Blank lines are skipped.
/// </summary>
public static class TokenizeJsonl
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Counts of one run: lines tokenized, lines refused, tokens written.</summary>
    public sealed record Summary(int Lines, int Errors, long Tokens);

    public static Summary Run(HfTokenizer tokenizer, TextReader input, Stream output, bool addSpecialTokens, TextWriter errors, string inputName)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        int lineNumber = 0, lines = 0, bad = 0;
        long tokens = 0;
        while (input.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            writer.Reset(output);
            writer.WriteStartObject();
            writer.WriteNumber("line", lineNumber);
            var (text, error) = ReadText(line);
            if (error is not null)
            {
                bad++;
                writer.WriteString("error", error);
                errors.WriteLine($"ft tokenize: {inputName}: line {lineNumber}: {error}");
            }
            else
            {
                var ids = tokenizer.Encode(text!, addSpecialTokens);
                tokens += ids.Length;
                lines++;
                WriteEncoding(writer, tokenizer, ids);
            }
            writer.WriteEndObject();
            writer.Flush();
            output.WriteByte((byte)'\n');
        }
        output.Flush();
        return new Summary(lines, bad, tokens);
    }

    private static void WriteEncoding(Utf8JsonWriter writer, HfTokenizer tokenizer, int[] ids)
    {
        writer.WriteStartArray("ids");
        foreach (var id in ids) writer.WriteNumberValue(id);
        writer.WriteEndArray();
        writer.WriteStartArray("tokens");
        foreach (var id in ids) writer.WriteStringValue(tokenizer.IdToToken(id));
        writer.WriteEndArray();
        writer.WriteString("decoded", tokenizer.Decode(ids));
    }

    /// <summary>The "text" of one JSONL line, or why there is none.</summary>
    private static (string? Text, string? Error) ReadText(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return (null, "expected a JSON object {\"text\": …}");
            if (!doc.RootElement.TryGetProperty("text", out var text)) return (null, "no \"text\" field");
            return text.ValueKind == JsonValueKind.String ? (text.GetString(), null) : (null, $"\"text\" must be a string, not {text.ValueKind.ToString().ToLowerInvariant()}");
        }
        catch (JsonException e)
        {
            return (null, $"invalid JSON at character {e.BytePositionInLine + 1}");
        }
    }

    /// <summary>The input: a file, or standard input for "-" (both read as UTF-8).</summary>
    public static TextReader OpenInput(string path) =>
        path == "-" ? new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false))
            : File.Exists(path) ? new StreamReader(path, new UTF8Encoding(false))
            : throw new FileNotFoundException($"{path}: no such file (give a JSONL file, or - for standard input).", path);
}
