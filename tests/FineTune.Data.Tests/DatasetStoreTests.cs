using System.Text;
using FineTune.Data;
using FineTune.Data.Storage;

namespace FineTune.Data.Tests;

/// <summary>Content-addressed, atomic dataset storage on disk.</summary>
public sealed class DatasetStoreTests : IDisposable
{
    private readonly TempDirectory _root = new("ft-data");
    private readonly DatasetStore _store;

    public DatasetStoreTests() => _store = new DatasetStore(new DataRoot(_root.Path));

    public void Dispose() => _root.Dispose();

    private static MemoryStream Utf8(string text) => new(Encoding.UTF8.GetBytes(text));

    private static string Jsonl(int count, int offset = 0) =>
        string.Concat(Enumerable.Range(offset, count).Select(i => $"{{\"instruction\": \"question {i}\", \"output\": \"answer number {i}\"}}\n"));

    [Fact]
    public async Task RejectedUploadLeavesNothingOnDisk()
    {
        var result = await _store.IngestAsync(Utf8(Jsonl(5) + "{\"instruction\": \"broken\"\n" + Jsonl(5, 5)), new IngestOptions());
        var rejected = Assert.IsType<IngestResult.Rejected>(result);
        Assert.Equal(6, Assert.Single(rejected.Errors).Line);
        Assert.Empty(Directory.GetFiles(_root.Path, "*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetDirectories(Path.Combine(_root.Path, "datasets")));
    }

    [Fact]
    public async Task OnlyTheFirstTwentyErrorsAreReportedButAllAreCounted()
    {
        var bad = string.Concat(Enumerable.Repeat("{\"instruction\": \"no answer\"}\n", 30));
        var rejected = Assert.IsType<IngestResult.Rejected>(await _store.IngestAsync(Utf8(bad), new IngestOptions()));
        Assert.Equal(20, rejected.Errors.Count);
        Assert.Equal(30, rejected.ErrorCount);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long?)i), rejected.Errors.Select(e => e.Line));
    }

    [Fact]
    public async Task SameContentInDifferentFormatsIsOneDataset()
    {
        var jsonl = await _store.IngestAsync(Utf8("{\"instruction\": \"q\", \"output\": \"the answer\"}\n"), new IngestOptions { Name = "a" });
        var text = await _store.IngestAsync(Utf8("### Instruction:\nq\n### Response:\nthe answer\n"), new IngestOptions { Name = "../../etc/passwd" });
        var first = Assert.IsType<IngestResult.Stored>(jsonl);
        var second = Assert.IsType<IngestResult.Stored>(text);
        Assert.False(first.Existed);
        Assert.True(second.Existed);
        Assert.Equal(first.Info.Id, second.Info.Id);
        Assert.Equal(first.Info.Hash[..16], first.Info.Id);
        Assert.Single(Directory.GetDirectories(Path.Combine(_root.Path, "datasets")));
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(_root.Path, "datasets", "../../etc/passwd"))));
    }

    [Fact]
    public async Task ConcurrentUploadsOfTheSameContentEndAsOneDataset()
    {
        var body = Jsonl(500);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Task.Run(() => _store.IngestAsync(Utf8(body), new IngestOptions()))));
        var stored = results.Select(r => Assert.IsType<IngestResult.Stored>(r)).ToList();
        Assert.Single(stored.Select(s => s.Info.Id).Distinct());
        Assert.Single(stored, s => !s.Existed);
        var folders = Directory.GetDirectories(Path.Combine(_root.Path, "datasets"));
        Assert.Equal(stored[0].Info.Id, Path.GetFileName(Assert.Single(folders)));
        Assert.Equal(500, File.ReadLines(Path.Combine(folders[0], DatasetFiles.Records)).Count());
    }

    [Fact]
    public async Task SplitIsAPartitionFixedBySeed()
    {
        var a = Assert.IsType<IngestResult.Stored>(await _store.IngestAsync(Utf8(Jsonl(100)), new IngestOptions { EvalRatio = 0.2, Seed = 7 }));
        var folder = Path.Combine(_root.Path, "datasets", a.Info.Id);
        var train = File.ReadAllLines(Path.Combine(folder, DatasetFiles.Train));
        var eval = File.ReadAllLines(Path.Combine(folder, DatasetFiles.Eval));
        Assert.Equal(80, train.Length);
        Assert.Equal(20, eval.Length);
        Assert.Equal(File.ReadAllLines(Path.Combine(folder, DatasetFiles.Records)).Order(), train.Concat(eval).Order());
        Assert.Equal(DatasetSplit.EvalMembers(100, 0.2, 7).Cast<bool>(), DatasetSplit.EvalMembers(100, 0.2, 7).Cast<bool>());
        Assert.NotEqual(DatasetSplit.EvalMembers(100, 0.2, 7).Cast<bool>(), DatasetSplit.EvalMembers(100, 0.2, 8).Cast<bool>());
    }

    [Fact]
    public async Task DuplicatesAreReportedAndDroppedWhenAsked()
    {
        var body = Jsonl(3) + Jsonl(1) + "{\"messages\": [{\"role\": \"user\", \"content\": \"question 1\"}, {\"role\": \"assistant\", \"content\": \"answer number 1\"}]}\n";
        var kept = Assert.IsType<IngestResult.Stored>(await _store.IngestAsync(Utf8(body), new IngestOptions()));
        Assert.Equal(5, kept.Info.Stats.Records);
        Assert.Equal(2, kept.Info.Duplicates);
        Assert.Contains(kept.Warnings, w => w.Line == 4 && w.Message == "duplicate of record 1");
        Assert.Contains(kept.Warnings, w => w.Line == 5 && w.Message == "duplicate of record 2");

        var dropped = Assert.IsType<IngestResult.Stored>(await _store.IngestAsync(Utf8(body), new IngestOptions { DropDuplicates = true }));
        Assert.Equal(3, dropped.Info.Stats.Records);
        Assert.Equal(2, dropped.Info.DuplicatesDropped);
        Assert.NotEqual(kept.Info.Id, dropped.Info.Id);
    }

    [Fact]
    public async Task StatsCountRecordsTurnsAndChars()
    {
        var body = """{"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"}, {"role": "assistant", "content": "world!"}]}""" + "\n";
        var stored = Assert.IsType<IngestResult.Stored>(await _store.IngestAsync(Utf8(body), new IngestOptions()));
        Assert.Equal((1L, 3L, 14L), (stored.Info.Stats.Records, stored.Info.Stats.Turns, stored.Info.Stats.Chars));
        Assert.Equal(1 + 2 + 2 + 3 * TokenEstimate.PerMessageOverhead, stored.Info.Stats.TokenEstimate);
    }
}
