using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Tokenizers;

namespace FineTune.Cli.Commands;

/// <summary>`ft tokenize &lt;model&gt; --text … [--file path] [--no-special] [--json]`: ids, tokens and offsets of a text.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model folder with tokenizer.json" };
        var text = new Option<string?>("--text") { Description = "Text to tokenize" };
        var file = new Option<string?>("--file") { Description = "Read the text from a UTF-8 file instead" };
        var noSpecial = new Option<bool>("--no-special") { Description = "Do not add the post-processor's special tokens (BOS…)" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output (schema in docs/cli.md)" };
        var command = new Command("tokenize", "Tokenize a text with a model's tokenizer (ids, tokens, character offsets)")
        {
            model, text, file, noSpecial, json,
        };
        command.SetAction(parse =>
        {
            try
            {
                var folder = parse.GetValue(model)!;
                var input = parse.GetValue(text) ?? (parse.GetValue(file) is { } path ? File.ReadAllText(path) : null);
                if (input is null)
                {
                    Console.Error.WriteLine("ft tokenize: give --text or --file.");
                    return 2;
                }
                var tokenizer = HfTokenizer.FromFolder(folder);
                var encoding = tokenizer.EncodeWithOffsets(input, addSpecialTokens: !parse.GetValue(noSpecial));
                if (parse.GetValue(json))
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
                }
                else
                {
                    for (var i = 0; i < encoding.Ids.Length; i++)
                    {
                        var (s, e) = encoding.Offsets[i];
                        Console.Out.WriteLine($"{encoding.Ids[i],8}  {JsonSerializer.Serialize(tokenizer.IdToToken(encoding.Ids[i]), CliJson.Options),-24}  [{s},{e})  {JsonSerializer.Serialize(input[s..e], CliJson.Options)}");
                    }
                    Console.Error.WriteLine($"{encoding.Ids.Length} tokens ({tokenizer.Kind}, vocabulary {tokenizer.VocabSize})");
                }
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
}
