using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Contracts.Quantization;
using FineTune.Models.Quantization;
using FineTune.Training.Lora;

namespace FineTune.Training.Peft;

/// <summary>
/// base_quantization.json beside adapter_config.json: how the frozen base was stored while the adapter trained, in the
/// field names of Hugging Face's BitsAndBytesConfig (quant_method, load_in_4bit, bnb_4bit_quant_type, …). PEFT's
/// adapter_config.json has no such field (transformers keeps it in the base model's config.json), and a merge needs it to
/// rebuild the very weights the adapter was trained against. Absent for a full-precision base.
/// </summary>
public static class BaseQuantizationFile
{
    public const string FileName = "base_quantization.json";

    public static void Write(string folder, BaseQuantization quantization)
    {
        var path = Path.Combine(folder, FileName);
        if (!quantization.IsQuantized)
        {
            File.Delete(path);
            return;
        }
        var nf4 = quantization.Kind == QuantizationKind.Nf4;
        var root = new JsonObject
        {
            ["quant_method"] = "bitsandbytes",
            ["load_in_4bit"] = nf4,
            ["load_in_8bit"] = !nf4,
            ["bnb_4bit_quant_type"] = "nf4",
            ["bnb_4bit_use_double_quant"] = quantization.DoubleQuant,
            ["bnb_4bit_blocksize"] = quantization.BlockSize,
            ["bnb_4bit_compute_dtype"] = quantization.ComputeDType is { } dtype ? DTypeName(dtype) : null,
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The base quantization recorded in <paramref name="folder"/>, or none when the file is absent.</summary>
    public static BaseQuantization Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return BaseQuantization.None;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
            var fourBit = root["load_in_4bit"]?.GetValue<bool>() == true;
            var eightBit = root["load_in_8bit"]?.GetValue<bool>() == true;
            if (fourBit == eightBit) throw new InvalidDataException($"{path}: exactly one of load_in_4bit and load_in_8bit must be true");
            var type = root["bnb_4bit_quant_type"]?.GetValue<string>() ?? "nf4";
            if (fourBit && type != "nf4") throw new InvalidDataException($"{path}: bnb_4bit_quant_type '{type}' is not supported (nf4 is)");
            var computeName = root["bnb_4bit_compute_dtype"]?.GetValue<string>();
            return new BaseQuantization
            {
                Kind = fourBit ? QuantizationKind.Nf4 : QuantizationKind.Int8,
                DoubleQuant = root["bnb_4bit_use_double_quant"]?.GetValue<bool>() ?? false,
                BlockSize = root["bnb_4bit_blocksize"]?.GetValue<int>() ?? Nf4.DefaultBlockSize,
                ComputeDType = computeName is null ? null : BaseQuantization.ParseComputeDType(computeName)
                    ?? throw new InvalidDataException($"{path}: bnb_4bit_compute_dtype '{computeName}' is not float32, bfloat16 or float16"),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Applies the recorded quantization to options read from adapter_config.json.</summary>
    public static LoraOptions Apply(LoraOptions options, string folder) => options with { Quantization = Read(folder) };

    private static string DTypeName(TorchSharp.torch.ScalarType dtype) => dtype switch
    {
        TorchSharp.torch.ScalarType.BFloat16 => "bfloat16",
        TorchSharp.torch.ScalarType.Float16 => "float16",
        _ => "float32",
    };
}
