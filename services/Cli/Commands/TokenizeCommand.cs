using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Cli.Commands;

/// <summary>
/// `ft tokenize &lt;model&gt; --text … [--file path] [--no-special] [--json]`: ids, tokens and offsets of a text;
/// `ft tokenize &lt;model&gt; --jsonl FILE|- [--out FILE] [--no-special]`: a JSONL file of {"text": …} lines, one result line each.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model folder with tokenizer.json" };
        var text = new Option<string?>("--text") { Description = "Text to tokenize" };
        var file = new Option<string?>("--file") { Description = "Read the text from a UTF-8 file instead" };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the post-processor's special tokens (BOS…)" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output (schema in docs/cli.md)" };
        var jsonl = new Option<string?>("--jsonl") { Description = "Tokenize every {\"text\": …} line of a JSONL file (- = standard input); one JSON line (line, ids, tokens, decoded) per input line" };
        var outFile = new Option<string?>("--out") { Description = "With --jsonl: write the results to this file instead of standard output" };
        var bench = new Option<int>("--bench") { Description = "Benchmark: encode every line of --file this many times (after one warm-up pass) and report tokens/s" };
        var command = new Command("tokenize", "Tokenize a text with a model's tokenizer (ids, tokens, character offsets)")
        {
            model, text, file, noSpecial, json, bench, jsonl, outFile,
        };
        command.SetAction(parse =>
        {
            try
            {
                var folder = parse.GetValue(model)!;
                if (parse.GetValue(jsonl) is { } jsonlPath)
                    return RunJsonl(folder, jsonlPath, parse.GetValue(outFile), !parse.GetValue(noSpecial));
                var input = parse.GetValue(text) ?? (parse.GetValue(file) is { } path ? File.ReadAllText(path) : null);
                if (input is null)
                {
                    Console.Error.WriteLine("ft tokenize: give --text or --file.");
                    return 2;
                }
                var tokenizer = HfTokenizer.FromFolder(folder);
                if (parse.GetValue(bench) is > 0 and var passes)
                    return Benchmark(tokenizer, input, passes, parse.GetValue(json));
                Write(tokenizer, folder, input, !parse.GetValue(noSpecial), parse.GetValue(json));
                return 0;
            }
            catch (Exception e) when (e is IOException or FormatException or NotSupportedException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"ft tokenize: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>The text's ids, tokens and character offsets: one JSON object, or one line per token.</summary>
    private static void Write(HfTokenizer tokenizer, string folder, string input, bool addSpecialTokens, bool json)
    {
        var encoding = tokenizer.EncodeWithOffsets(input, addSpecialTokens);
        if (json)
        {
            var output = new JsonObject
            {
                ["model"] = Path.GetFullPath(folder),
                ["kind"] = tokenizer.Kind,
                ["vocab_size"] = tokenizer.VocabSize,
                ["count"] = encoding.Ids.Length,
                ["ids"] = new JsonArray(encoding.Ids.Select(i => (JsonNode)i).ToArray()),
                ["tokens"] = new JsonArray(encoding.Ids.Select(i => (JsonNode?)tokenizer.IdToToken(i)).ToArray()),
                ["offsets"] = new JsonArray(encoding.Offsets.Select(o => (JsonNode)new JsonArray(o.Start, o.End)).ToArray()),
                ["decoded"] = tokenizer.Decode(encoding.Ids),
            };
            Console.Out.WriteLine(output.ToJsonString(CliJson.Options));
            return;
        }
        for (var i = 0; i < encoding.Ids.Length; i++)
        {
            var (s, e) = encoding.Offsets[i];
            Console.Out.WriteLine($"{encoding.Ids[i],8}  {JsonSerializer.Serialize(tokenizer.IdToToken(encoding.Ids[i]), CliJson.Options),-24}  [{s},{e})  {JsonSerializer.Serialize(input[s..e], CliJson.Options)}");
        }
        Console.Error.WriteLine($"{encoding.Ids.Length} tokens ({tokenizer.Kind}, vocabulary {tokenizer.VocabSize})");
    }

    private static int RunJsonl(string folder, string inputPath, string? outPath, bool addSpecialTokens)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var tokenizer = HfTokenizer.FromFolder(folder);
        using var input = TokenizeJsonl.OpenInput(inputPath);
        using var output = outPath is null ? Console.OpenStandardOutput() : File.Create(outPath);
        using var buffered = new BufferedStream(output, 1 << 16);
        var summary = TokenizeJsonl.Run(tokenizer, input, buffered, addSpecialTokens, Console.Error, inputPath == "-" ? "stdin" : inputPath);
        Console.Error.WriteLine($"ft tokenize: {summary.Lines} lines, {summary.Tokens} tokens in {watch.Elapsed.TotalSeconds:F2} s"
            + (summary.Errors > 0 ? $"; {summary.Errors} bad lines (see above; each has an \"error\" line in the output)" : ""));
        return summary.Errors > 0 ? 1 : 0;
    }

    /// <summary>Encodes each non-empty line (a record, as preprocessing does) for several passes; reports the rate.</summary>
    private static int Benchmark(HfTokenizer tokenizer, string input, int passes, bool json)
    {
        var lines = input.Split('\n').Where(l => l.Length > 0).ToArray();
        long tokens = 0, chars = 0;
        foreach (var line in lines) tokenizer.Encode(line, addSpecialTokens: false); // warm-up: caches filled as in steady state
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var p = 0; p < passes; p++)
            foreach (var line in lines)
            {
                tokens += tokenizer.Encode(line, addSpecialTokens: false).Length;
                chars += line.Length;
            }
        var seconds = watch.Elapsed.TotalSeconds;
        var result = new JsonObject
        {
            ["engine"] = "FineTune.Models HfTokenizer (" + tokenizer.MergeEngine + ")",
            ["records"] = lines.Length * passes,
            ["chars"] = chars,
            ["tokens"] = tokens,
            ["seconds"] = Math.Round(seconds, 4),
            ["tokens_per_s"] = Math.Round(tokens / seconds),
            ["chars_per_s"] = Math.Round(chars / seconds),
        };
        Console.Out.WriteLine(json ? result.ToJsonString(CliJson.Options)
            : $"{tokens} tokens from {chars} chars in {seconds:F3} s: {tokens / seconds:F0} tokens/s, {chars / seconds:F0} chars/s");
        return 0;
    }
}
