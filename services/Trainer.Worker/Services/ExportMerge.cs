// The trainer's last step before an export: fold the adapter into its base (AdapterMerger) and write the merged HF folder
// to jobs/<jobId>/artifacts/merged, where the export worker, which has no TorchSharp and does not merge, converts it to GGUF
// and Inference.Api serves it. A quantized base (QLoRA) is dequantized here exactly once, to the weights the adapter was
// trained against. docs/architecture.md says why the merge is the trainer's.
using System.Diagnostics;
using FineTune.Messaging.Jobs;
using FineTune.Training.Merge;

namespace Trainer.Worker.Services;

public static class ExportMerge
{
    /// <summary>The folder under a job's artifacts that holds the merged model (ExportJob.MergedFolder).</summary>
    public const string MergedFolder = "merged";

    /// <summary>Merges <paramref name="adapter"/> into <paramref name="model"/> at <paramref name="artifacts"/>/merged, replacing an older merge.</summary>
    public static async Task<string> RunAsync(JobStore jobs, ActivitySource source, string jobId, string model, string adapter, string artifacts)
    {
        using var span = source.StartActivity("merge");
        var merged = Path.Combine(artifacts, MergedFolder);
        await jobs.AddEventAsync(jobId, "merge", "merging the adapter into the base model for export");
        if (Directory.Exists(merged)) Directory.Delete(merged, recursive: true);
        var result = await Task.Run(() => AdapterMerger.Merge(model, adapter, merged));
        span?.SetTag("ft.merge.layers", result.MergedLayers);
        await jobs.AddEventAsync(jobId, "merge", $"merged {result.MergedLayers} LoRA layers into {merged}");
        return merged;
    }
}
