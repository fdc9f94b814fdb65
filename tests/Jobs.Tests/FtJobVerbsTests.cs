using System.Text.Json;

namespace Jobs.Tests;

/// <summary>The <c>ft</c> job verbs as a user runs them: the real ft process against the real Jobs API and trainer.</summary>
[Collection(JobsCollection.Name)]
public sealed class FtJobVerbsTests(JobsTestBed bed)
{
    private Task<(int Code, string Out, string Err)> FtAsync(params string[] args) => FtProcess.RunAsync(args, bed.Http.BaseAddress);

    [Fact]
    public async Task SubmitWatchListAndDownloadArtifactsWithFt()
    {
        using var work = new TempDirectory("ft-cli-jobs");
        var data = Path.Combine(work.Path, "sums.jsonl");
        await File.WriteAllTextAsync(data, JobsTestBed.SumsJsonl);
        var options = Path.Combine(work.Path, "job.json");
        await File.WriteAllTextAsync(options, JsonSerializer.Serialize(JobsTestBed.Options(maxSteps: 3)));

        var bad = await FtAsync("submit", data, "--options", options, "--learning-rate", "-1");
        Assert.Equal(1, bad.Code);
        Assert.Contains("training.learning_rate", bad.Err);

        var submit = await FtAsync("submit", data, "--options", options, "--json");
        Assert.True(submit.Code == 0, submit.Err);
        var id = JsonDocument.Parse(submit.Out).RootElement.GetProperty("id").GetString()!;

        var watch = await FtAsync("watch", id, "--json");
        Assert.True(watch.Code == 0, watch.Out + watch.Err);
        var lines = watch.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("end", lines[^1].GetProperty("event").GetString());
        Assert.Equal("done", lines[^1].GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(3, lines.Count(l => l.GetProperty("event").GetString() == "metrics" && l.GetProperty("data").GetProperty("kind").GetString() == "train"));

        var jobs = await FtAsync("jobs", "--json");
        Assert.Contains(JsonDocument.Parse(jobs.Out).RootElement.EnumerateArray(), j => j.GetProperty("id").GetString() == id);

        var outDir = Path.Combine(work.Path, "out");
        var artifacts = await FtAsync("artifacts", id, "--out", outDir);
        Assert.True(artifacts.Code == 0, artifacts.Err);
        const string adapter = "train/adapter/adapter_model.safetensors";
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(bed.DataRoot, "jobs", id, adapter)), await File.ReadAllBytesAsync(Path.Combine(outDir, adapter)));
        Assert.Empty(Directory.GetFiles(outDir, "*.part", SearchOption.AllDirectories));

        var cancelDone = await FtAsync("cancel", id);
        Assert.Equal(1, cancelDone.Code);
        Assert.Contains("409", cancelDone.Err);
    }
}
