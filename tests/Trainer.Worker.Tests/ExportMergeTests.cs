using FineTune.Formats.Safetensors;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using FineTune.Training.Merge;

namespace Trainer.Worker.Tests;

/// <summary>
/// A job that asks for an export: the trainer merges the adapter into the base (the export worker has no TorchSharp)
/// and names the merged folder in the ft:export:requests message.
/// </summary>
public sealed class ExportMergeTests : IAsyncLifetime
{
    private readonly TrainerTestBed _bed = new();

    public Task InitializeAsync() => _bed.InitializeAsync();
    public Task DisposeAsync() => _bed.DisposeAsync();

    [Fact]
    public async Task TheTrainerMergesTheAdapterAndHandsTheMergedFolderToTheExport()
    {
        _bed.StartReplica("replica-a");
        await _bed.Jobs.CreateAsync("exported", TrainerTestBed.Spec(maxSteps: 4));
        await _bed.Jobs.SetFieldsAsync("exported", ("export", """{"ggufType":"q8_0"}"""));
        await _bed.Db.PublishAsync(StreamNames.TrainJobs, new TrainRequest("exported").ToFields());

        await Eventually.UntilAsync(async () => (await _bed.Db.StreamLengthAsync(StreamNames.ExportRequests)) > 0,
            TimeSpan.FromMinutes(3), "the export request", describe: _bed.ReplicasSaid);
        var request = (await _bed.Db.StreamRangeAsync(StreamNames.ExportRequests)).Single();
        var merged = Path.Combine(_bed.DataRoot, "jobs", "exported", "artifacts", "merged");
        Assert.Equal(merged, (string)request["merged"]!);
        Assert.Equal("q8_0", (string)request["ggufType"]!);
        Assert.Equal(JobStatus.Exporting, await _bed.StatusAsync("exported"));
        Assert.Contains(await _bed.EventsAsync("exported"), e => e.Kind == "merge" && e.Message.StartsWith("merged ", StringComparison.Ordinal));

        // The same merge as `ft merge` of the trained adapter, byte for byte.
        var reference = AdapterMerger.Merge(Path.Combine(_bed.DataRoot, "models", "nano"), (string)request["adapter"]!,
            Path.Combine(_bed.DataRoot, "reference-merge")).Folder;
        using var ours = SafetensorsCheckpoint.Open(merged);
        using var theirs = SafetensorsCheckpoint.Open(reference);
        Assert.Equal(theirs.Names.Order(StringComparer.Ordinal), ours.Names.Order(StringComparer.Ordinal));
        foreach (var file in Directory.GetFiles(reference, "*.safetensors"))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(merged, Path.GetFileName(file))));
    }
}
