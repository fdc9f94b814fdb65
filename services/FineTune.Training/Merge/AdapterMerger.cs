// The one merge of a LoRA adapter into its base. It runs where TorchSharp is: the trainer after training, for the export
// (Trainer.Worker's ExportMerge), `ft merge` and `ft export`, and Inference.Api (MergeInto). The export worker has no
// TorchSharp and does not merge; it converts the folder written here (docs/architecture.md).
using FineTune.Formats.Safetensors;
using FineTune.Models;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using FineTune.Training.Peft;
using static TorchSharp.torch;

namespace FineTune.Training.Merge;

/// <summary>
/// Folds a LoRA adapter into its base model: W' = W + scaling·B·A, computed in FP32, stored in the base checkpoint's dtype,
/// with modules_to_save copied in. The result is a plain HF folder (config.json, sharded safetensors, tokenizer and
/// generation files copied from the base) written to a temporary sibling and renamed into place.
/// </summary>
public static class AdapterMerger
{
    /// <summary>Default shard size, as transformers' save_pretrained uses.</summary>
    public const long DefaultMaxShardBytes = 5L * 1000 * 1000 * 1000;

    private static readonly HashSet<string> WeightFiles = new(StringComparer.Ordinal) { SafetensorsCheckpoint.IndexFileName, "config.json" };

    public static MergeResult Merge(string baseFolder, string adapterFolder, string outputFolder, long maxShardBytes = DefaultMaxShardBytes)
    {
        baseFolder = Path.GetFullPath(baseFolder);
        outputFolder = Path.GetFullPath(outputFolder);
        if (Directory.Exists(outputFolder) && Directory.EnumerateFileSystemEntries(outputFolder).Any())
            throw new IOException($"{outputFolder}: output folder exists and is not empty");

        var storedDtype = StoredDtype(baseFolder);
        // A quantized base is rebuilt as training saw it, quantized on load; MergeInto dequantizes it once.
        using var model = CausalLM.Load(baseFolder, BaseQuantizationFile.Read(adapterFolder), CPU, ScalarType.Float32);
        var adapter = PeftAdapterFiles.Load(new CausalLMTrainable(model), adapterFolder);
        MergeInto(model, adapter);

        var parent = Path.GetDirectoryName(outputFolder)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".tmp-{Path.GetFileName(outputFolder)}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var files = model.Save(temp, storedDtype, maxShardBytes);
            foreach (var file in Directory.GetFiles(baseFolder))
            {
                var name = Path.GetFileName(file);
                if (WeightFiles.Contains(name) || name.EndsWith(".safetensors", StringComparison.Ordinal) || name.EndsWith(".bin", StringComparison.Ordinal)) continue;
                File.Copy(file, Path.Combine(temp, name));
            }
            if (Directory.Exists(outputFolder)) Directory.Delete(outputFolder);
            Directory.Move(temp, outputFolder);
            return new MergeResult(outputFolder, adapter.Layers.Count, storedDtype, files.Select(Path.GetFileName).ToList()!);
        }
        catch
        {
            try { Directory.Delete(temp, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>
    /// Merges every LoRA layer into its base and puts plain Linears back, so state_dict() has the base keys again.
    /// A quantized base is dequantized here, once per layer: W' = dequantize(W) + ΔW, the weights the adapter was trained on.
    /// </summary>
    public static void MergeInto(CausalLM model, LoraAdapter adapter)
    {
        foreach (var path in model.LinearModulePaths)
        {
            model.ReplaceModule(path, m => m switch
            {
                LoraLinear lora => lora.ToMergedLinear(),
                QuantizedLinear quantized => quantized.ToLinear(),
                _ => m,
            });
        }
    }

    /// <summary>The dtype the base checkpoint stores its floating-point weights in.</summary>
    private static ScalarType StoredDtype(string folder)
    {
        using var checkpoint = SafetensorsCheckpoint.Open(folder);
        var first = checkpoint.Tensors.FirstOrDefault(t => t.DType is SafetensorDType.F32 or SafetensorDType.F16 or SafetensorDType.BF16)
            ?? throw new InvalidDataException($"{folder}: no floating-point weights");
        return TensorIO.ToTorch(first.DType);
    }
}

/// <summary>What a merge wrote.</summary>
public sealed record MergeResult(string Folder, int MergedLayers, ScalarType DType, IReadOnlyList<string> WeightFiles);
