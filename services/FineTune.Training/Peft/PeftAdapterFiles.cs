using FineTune.Formats.Safetensors;
using FineTune.Models;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using static TorchSharp.torch;

namespace FineTune.Training.Peft;

/// <summary>
/// An adapter folder as PEFT's save_pretrained writes it: adapter_config.json and adapter_model.safetensors, with keys
/// base_model.model.&lt;module path&gt;.lora_A.weight (r, in) / .lora_B.weight (out, r) and, for modules_to_save,
/// base_model.model.&lt;parameter name&gt;. Tensors are written in FP32.
/// </summary>
public static class PeftAdapterFiles
{
    public const string WeightsFileName = "adapter_model.safetensors";

    public static void Save(LoraAdapter adapter, string folder, PeftAdapterMetadata metadata)
    {
        Directory.CreateDirectory(folder);
        var tensors = adapter.StateDict();
        try
        {
            TensorIO.WriteCheckpoint(folder, tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value)),
                ScalarType.Float32, baseName: Path.GetFileNameWithoutExtension(WeightsFileName));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        var config = System.Text.Encoding.UTF8.GetBytes(PeftAdapterConfig.Serialize(adapter.Options, metadata));
        SafetensorsWriter.AtomicWrite(Path.Combine(folder, PeftAdapterConfig.FileName), stream => stream.Write(config));
        BaseQuantizationFile.Write(folder, adapter.Options.Quantization);
    }

    /// <summary>Reads the adapter's LoRA options from <paramref name="folder"/>'s adapter_config.json (and base_quantization.json).</summary>
    public static (LoraOptions Options, string? BaseModel) ReadConfig(string folder)
    {
        var path = Path.Combine(folder, PeftAdapterConfig.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} is not a PEFT adapter: {PeftAdapterConfig.FileName} is missing", path);
        var (options, baseModel) = PeftAdapterConfig.Read(path);
        return (BaseQuantizationFile.Apply(options, folder), baseModel);
    }

    /// <summary>Injects the adapter in <paramref name="folder"/> (PEFT's or ours) into <paramref name="model"/> and loads its weights.</summary>
    public static LoraAdapter Load(ITrainableCausalLM model, string folder)
    {
        var (options, _) = ReadConfig(folder);
        var adapter = LoraInjector.Inject(model, options);
        LoadInto(adapter, folder);
        return adapter;
    }

    /// <summary>Copies the weights in <paramref name="folder"/> into an already injected adapter.</summary>
    public static void LoadInto(LoraAdapter adapter, string folder)
    {
        var path = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(path))
        {
            if (File.Exists(Path.Combine(folder, "adapter_model.bin")))
                throw new InvalidDataException($"{folder}: adapter_model.bin (pickle) is not read; re-save the adapter with safe_serialization=True");
            throw new FileNotFoundException($"{folder} is not a PEFT adapter: {WeightsFileName} is missing", path);
        }
        using var file = SafetensorsFile.Open(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var info in file.Tensors)
            {
                var t = TensorIO.Read(file, info.Name);
                tensors[NormaliseKey(info.Name)] = t;
                if (!t.is_floating_point())
                    throw new InvalidDataException($"{path}: tensor '{info.Name}' is {info.DType}; adapter weights are floating-point");
            }
            adapter.LoadStateDict(tensors, path);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>In-memory PEFT keys carry the adapter name ("lora_A.default.weight"); files written from memory dumps may too.</summary>
    private static string NormaliseKey(string key) =>
        key.Replace(".lora_A.default.", ".lora_A.", StringComparison.Ordinal)
           .Replace(".lora_B.default.", ".lora_B.", StringComparison.Ordinal);
}
