using System.Text.Json;
using FineTune.Models.Core.Tokenizers;

namespace Cli.Tests;

/// <summary>
/// `ft tokenize &lt;model&gt; --jsonl` as a user runs it: the real ft process on a JSONL file and on standard input. Each
/// result line must equal what the tokenizer gives in process; bad lines are reported by line number and the run goes on.
/// </summary>
public sealed class FtTokenizeJsonlTests
{
    private static Task<(int Code, string Out, string Err)> FtAsync(string? stdin, params string[] args) => FtProcess.RunAsync(args, stdin: stdin);

    private static readonly string[] Texts =
        ["Hello world", "你好，世界！", "<|im_start|>user\nHi<|im_end|>", "tabs\tand  spaces\n", "emoji 👍🏽 ok", "12345 and 3.14"];

    [Fact]
    public async Task EveryLineGetsTheTokenizersIdsTokensAndDecodeAndBadLinesAreNamedWithoutStoppingTheRun()
    {
        using var work = new TempDirectory("ft-tokenize-jsonl");
        TinyTokenizerBuilder.Write(work.Path);
        var tokenizer = HfTokenizer.FromFolder(work.Path);
        var lines = Texts.Select(t => JsonSerializer.Serialize(new { text = t, other = 1 })).ToList();
        lines.Insert(2, "");                          // line 3: blank, skipped
        lines.Insert(4, "{\"text\": [1, 2]}");        // line 5: text not a string
        lines.Insert(6, "{\"txt\": \"typo\"}");       // line 7: no text field
        lines.Add("{\"text\": \"unterminated");       // line 10: invalid JSON
        var input = work.File("in.jsonl");
        await File.WriteAllLinesAsync(input, lines);
        var output = work.File("out.jsonl");

        var (code, stdout, stderr) = await FtAsync(null, "tokenize", work.Path, "--jsonl", input, "--out", output);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("in.jsonl: line 5: \"text\" must be a string, not array", stderr);
        Assert.Contains("in.jsonl: line 7: no \"text\" field", stderr);
        Assert.Contains("in.jsonl: line 10: invalid JSON at character", stderr);
        Assert.Contains("6 lines", stderr);
        Assert.Contains("3 bad lines", stderr);
        var results = (await File.ReadAllLinesAsync(output)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal([1, 2, 4, 5, 6, 7, 8, 9, 10], results.Select(r => r.GetProperty("line").GetInt32()));
        var good = results.Where(r => !r.TryGetProperty("error", out _)).ToArray();
        Assert.Equal(Texts.Length, good.Length);
        for (var i = 0; i < Texts.Length; i++)
        {
            var ids = tokenizer.Encode(Texts[i]);
            Assert.Equal(ids, good[i].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
            Assert.Equal(ids.Select(tokenizer.IdToToken), good[i].GetProperty("tokens").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal(tokenizer.Decode(ids), good[i].GetProperty("decoded").GetString());
        }
    }

    [Fact]
    public async Task StandardInToStandardOutWithoutSpecialTokens()
    {
        using var work = new TempDirectory("ft-tokenize-stdin");
        TinyTokenizerBuilder.Write(work.Path);
        var tokenizer = HfTokenizer.FromFolder(work.Path);
        var stdin = string.Join("\n", Texts.Select(t => JsonSerializer.Serialize(new { text = t }))) + "\n";

        var (code, stdout, stderr) = await FtAsync(stdin, "tokenize", work.Path, "--jsonl", "-", "--no-special");

        Assert.True(code == 0, stderr);
        var results = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(Texts.Length, results.Length);
        for (var i = 0; i < Texts.Length; i++)
            Assert.Equal(tokenizer.Encode(Texts[i], addSpecialTokens: false), results[i].GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public async Task AMissingInputFileIsOneErrorLine()
    {
        using var work = new TempDirectory("ft-tokenize-missing");
        TinyTokenizerBuilder.Write(work.Path);
        var (code, _, stderr) = await FtAsync(null, "tokenize", work.Path, "--jsonl", work.File("nope.jsonl"));
        Assert.Equal(1, code);
        Assert.Contains("nope.jsonl: no such file", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }
}
