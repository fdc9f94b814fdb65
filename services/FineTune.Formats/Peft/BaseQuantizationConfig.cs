// base_quantization.json beside adapter_config.json, as a file format: how the frozen base was stored while the adapter
// trained, in the field names of Hugging Face's BitsAndBytesConfig. No tensors and no dtypes here: FineTune.Training's
// BaseQuantizationFile maps it to and from the model library's BaseQuantization.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Formats.Peft;

/// <summary>
/// base_quantization.json (quant_method, load_in_4bit, load_in_8bit, bnb_4bit_quant_type, bnb_4bit_use_double_quant,
/// bnb_4bit_blocksize, bnb_4bit_compute_dtype). PEFT's adapter_config.json has no such field (transformers keeps it in the
/// base model's config.json), and a merge needs it to rebuild the very weights the adapter was trained against.
/// </summary>
public sealed record BaseQuantizationConfig
{
    public const string FileName = "base_quantization.json";

    /// <summary>load_in_4bit (NF4, the only 4-bit type read) rather than load_in_8bit.</summary>
    public required bool FourBit { get; init; }
    public bool DoubleQuant { get; init; }
    /// <summary>bnb_4bit_blocksize; null when the file does not say.</summary>
    public int? BlockSize { get; init; }
    /// <summary>bnb_4bit_compute_dtype as written (float32, bfloat16, float16), or null.</summary>
    public string? ComputeDType { get; init; }

    public void Write(string folder)
    {
        var root = new JsonObject
        {
            ["quant_method"] = "bitsandbytes",
            ["load_in_4bit"] = FourBit,
            ["load_in_8bit"] = !FourBit,
            ["bnb_4bit_quant_type"] = "nf4",
            ["bnb_4bit_use_double_quant"] = DoubleQuant,
            ["bnb_4bit_blocksize"] = BlockSize,
            ["bnb_4bit_compute_dtype"] = ComputeDType,
        };
        File.WriteAllText(Path.Combine(folder, FileName), root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The base quantization recorded in <paramref name="folder"/>, or null when the file is absent (a full-precision base).</summary>
    public static BaseQuantizationConfig? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
            var fourBit = root["load_in_4bit"]?.GetValue<bool>() == true;
            var eightBit = root["load_in_8bit"]?.GetValue<bool>() == true;
            if (fourBit == eightBit) throw new InvalidDataException($"{path}: exactly one of load_in_4bit and load_in_8bit must be true");
            var type = root["bnb_4bit_quant_type"]?.GetValue<string>() ?? "nf4";
            if (fourBit && type != "nf4") throw new InvalidDataException($"{path}: bnb_4bit_quant_type '{type}' is not supported (nf4 is)");
            return new BaseQuantizationConfig
            {
                FourBit = fourBit,
                DoubleQuant = root["bnb_4bit_use_double_quant"]?.GetValue<bool>() ?? false,
                BlockSize = root["bnb_4bit_blocksize"]?.GetValue<int>(),
                ComputeDType = root["bnb_4bit_compute_dtype"]?.GetValue<string>(),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
