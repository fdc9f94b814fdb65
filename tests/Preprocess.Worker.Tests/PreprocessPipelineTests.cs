using System.Text;
using FineTune.Data.Shards;
using FineTune.Messaging.Contracts;
using FineTune.Models.Core.Tokenizers;
using Preprocess.Worker.Services;

namespace Preprocess.Worker.Tests;

/// <summary>Dataset → shards: golden tokens and masks, truncation and dropping, one record per example, idempotence.</summary>
[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public sealed class PreprocessPipelineTests : IDisposable
{
    private readonly PreprocessFixture _fx = new();

    public void Dispose() => _fx.Dispose();

    private static PreprocessRequest Request(string datasetId, string model = "tiny", int maxLength = 1024, string overLong = "truncate", bool trainOnInputs = false) =>
        new() { DatasetId = datasetId, Model = model, MaxLength = maxLength, OverLong = overLong, TrainOnInputs = trainOnInputs };

    /// <summary>
    /// Seed 001's two records through the real Llama 2 tokenizer and chat template. The golden file was produced by this
    /// pipeline and checked by hand (the masked tokens decode to exactly each answer plus "(the masked tokens decode to exactly each answer plus "&lt;/s&gt;", which the test also asserts)lt;/s(the masked tokens decode to exactly each answer plus "&lt;/s&gt;", which the test also asserts)gt;", spaces aside, which the test also asserts).
    /// Regenerate with FT_UPDATE_GOLDEN=1 only after a deliberate change of template, tokenizer or shard layout.
    /// </summary>
    [Fact]
    public async Task Seed001ThroughLlama2MatchesTheGoldenTokenAndMaskDump()
    {
        var info = await _fx.IngestFixtureAsync("seed001_instruction.jsonl");
        var outcome = await _fx.Pipeline().RunAsync(Request(info.Id, model: "llama2"), default);
        using var reader = ShardReader.Open(Path.Combine(outcome.Folder, "train.bin"));
        var dump = new StringBuilder();
        var tokenizer = HfTokenizer.FromFolder(_fx.Root.Model("llama2"));
        var answers = new[] { "SAR影像是合成孔径雷达影像，其核心特点是主动成像、不受光照影响，适合全天时、全天候对地观测。", "SAR影像中的斑点噪声源于相干成像机制，本质上是一种乘性噪声，严重影响影像解译精度。" };
        for (var i = 0; i < reader.Count; i++)
        {
            var (tokens, mask) = reader.Read(i);
            dump.Append($"record {i}: {tokens.Length} tokens, {mask.Count(m => m)} targets\n");
            dump.Append("ids: ").AppendJoin(' ', tokens).Append('\n');
            dump.Append("mask: ").AppendJoin("", mask.Select(m => m ? '1' : '0')).Append('\n');
            var targets = tokens.Where((_, t) => mask[t]).ToArray();
            Assert.Equal(answers[i] + "</s>", tokenizer.Decode(targets, skipSpecialTokens: false).Replace(" ", ""));
        }
        Assert.Equal(Convert.FromHexString(tokenizer.ContentHash), reader.TokenizerHash);
        var golden = FixtureFile.Path("golden/seed001_llama2_train.txt");
        if (Environment.GetEnvironmentVariable("FT_UPDATE_GOLDEN") == "1")
            File.WriteAllText(Path.Combine(Repo.Root, "tests", "Preprocess.Worker.Tests", "Fixtures", "golden", "seed001_llama2_train.txt"), dump.ToString());
        Assert.Equal(File.ReadAllText(golden), dump.ToString());
    }

    [Fact]
    public async Task RepeatedRequestIsSkippedAndChangedOptionsAreNot()
    {
        var info = await _fx.IngestFixtureAsync("seed000_input_output.json");
        var first = await _fx.Pipeline().RunAsync(Request(info.Id), default);
        var written = File.GetLastWriteTimeUtc(Path.Combine(first.Folder, "train.bin"));
        var again = await _fx.Pipeline().RunAsync(Request(info.Id), default);
        Assert.False(first.Skipped);
        Assert.True(again.Skipped);
        Assert.Equal(first.Hash, again.Hash);
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(again.Folder, "train.bin")));
        var other = await _fx.Pipeline().RunAsync(Request(info.Id, maxLength: 512), default);
        Assert.False(other.Skipped);
        Assert.NotEqual(first.Hash, other.Hash);
        Assert.Equal(2, Directory.GetDirectories(_fx.Root.Shards).Length);
    }

    [Fact]
    public async Task OverLongRecordsAreTruncatedOrDroppedAndCounted()
    {
        var longAnswer = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 20));
        var info = await _fx.IngestAsync($"{{\"instruction\": \"short\", \"output\": \"a short answer\"}}\n{{\"instruction\": \"long\", \"output\": \"{longAnswer}\"}}\n");

        var truncated = await _fx.Pipeline().RunAsync(Request(info.Id, maxLength: 32), default);
        var t = truncated.Manifest.Split("train")!;
        Assert.Equal((2L, 1L, 0L), (t.Records, t.Truncated, t.Dropped));
        using (var reader = ShardReader.Open(Path.Combine(truncated.Folder, "train.bin")))
        {
            Assert.Equal(32, reader.RecordLength(1));
            Assert.Equal(32, reader.MaxLength);
        }

        var dropped = await _fx.Pipeline().RunAsync(Request(info.Id, maxLength: 32, overLong: "drop"), default);
        var d = dropped.Manifest.Split("train")!;
        Assert.Equal((1L, 0L, 1L), (d.Records, d.Truncated, d.Dropped));
    }

    [Fact]
    public async Task ShardsHoldOneUnpackedRecordPerExample()
    {
        var lines = string.Concat(Enumerable.Range(0, 40).Select(i => $"{{\"instruction\": \"question {i}\", \"output\": \"answer number {i}\"}}\n"));
        var info = await _fx.IngestAsync(lines);
        var outcome = await _fx.Pipeline().RunAsync(Request(info.Id, maxLength: 64), default);
        using var reader = ShardReader.Open(Path.Combine(outcome.Folder, "train.bin"));
        var train = outcome.Manifest.Split("train")!;
        Assert.Equal(train.Records, reader.Count);
        Assert.True(reader.Count > 1);
        Assert.All(Enumerable.Range(0, reader.Count), i => Assert.InRange(reader.RecordLength(i), 2, 64));
        var header = File.ReadAllBytes(reader.Path)[64..72];
        Assert.All(header, b => Assert.Equal(0, b));   // pack count 0: packing happens in the trainer (SftDataset)
    }

    [Fact]
    public async Task TrainOnInputsMarksEveryToken()
    {
        var info = await _fx.IngestFixtureAsync("seed000_input_output.json");
        var outcome = await _fx.Pipeline().RunAsync(Request(info.Id, trainOnInputs: true), default);
        using var reader = ShardReader.Open(Path.Combine(outcome.Folder, "train.bin"));
        Assert.All(Enumerable.Range(0, reader.Count), i => Assert.All(reader.Read(i).Mask, Assert.True));
    }
}
