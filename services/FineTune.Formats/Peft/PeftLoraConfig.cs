// adapter_config.json, the LoRA half of a PEFT adapter folder, as a file format: the fields this engine reads and
// writes, with no tensors and no training types. FineTune.Training maps it to and from its LoraOptions (and adds the
// base quantization); the export reads modules_to_save from it without TorchSharp.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Formats.Peft;

/// <summary>
/// adapter_config.json as PEFT writes it (LoraConfig.save_pretrained: every field, keys sorted, two-space indent), and the
/// reader for adapters made elsewhere: it accepts the LoRA features this engine implements and names the field of any other.
/// </summary>
public sealed record PeftLoraConfig
{
    public const string FileName = "adapter_config.json";

    /// <summary>The target that selects every Linear of attention and MLP (PEFT's "all-linear"; lm_head excluded).</summary>
    public const string AllLinear = "all-linear";

    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 8;
    public double Dropout { get; init; }
    public required IReadOnlyList<string> TargetModules { get; init; }
    public bool UseRsLora { get; init; }
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    /// <summary>base_model_name_or_path.</summary>
    public string? BaseModel { get; init; }

    public string Serialize(string peftVersion)
    {
        var fields = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModel,
            ["bias"] = "none",
            ["corda_config"] = null,
            ["eva_config"] = null,
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = JsonValue.Create(AsNumber(Alpha)),
            ["lora_bias"] = false,
            ["lora_dropout"] = Dropout,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = ModulesToSave.Count == 0 ? null : new JsonArray([.. ModulesToSave.Select(m => (JsonNode)m)]),
            ["peft_type"] = "LORA",
            ["peft_version"] = peftVersion,
            ["r"] = Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModules is [AllLinear]
                ? AllLinear
                : new JsonArray([.. TargetModules.Order(StringComparer.Ordinal).Select(m => (JsonNode)m)]),
            ["task_type"] = "CAUSAL_LM",
            ["trainable_token_indices"] = null,
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        var root = new JsonObject();
        foreach (var (key, value) in fields) root[key] = value;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, IndentSize = 2 }))
            root.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads an adapter_config.json (ours or PEFT's); unsupported features are rejected by field name.</summary>
    public static PeftLoraConfig Read(string path)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
        RejectUnsupported(root, path);
        var targets = root["target_modules"] switch
        {
            JsonArray a => a.Select(n => n!.GetValue<string>()).ToList(),
            JsonValue v => [v.GetValue<string>()],
            _ => throw new InvalidDataException($"{path}: target_modules is missing"),
        };
        return new PeftLoraConfig
        {
            Rank = root["r"]?.GetValue<int>() ?? 8,
            Alpha = root["lora_alpha"]?.GetValue<double>() ?? 8,
            Dropout = root["lora_dropout"]?.GetValue<double>() ?? 0,
            TargetModules = targets,
            UseRsLora = root["use_rslora"]?.GetValueKind() == JsonValueKind.True,
            ModulesToSave = root["modules_to_save"] is JsonArray m ? [.. m.Select(n => n!.GetValue<string>())] : [],
            BaseModel = root["base_model_name_or_path"]?.GetValue<string>(),
        };
    }

    /// <summary>The adapter_config.json in <paramref name="folder"/>, or a FileNotFoundException naming the folder.</summary>
    public static PeftLoraConfig ReadFolder(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} is not a PEFT adapter: {FileName} is missing", path);
        return Read(path);
    }

    private static void RejectUnsupported(JsonObject root, string path)
    {
        var peftType = root["peft_type"]?.GetValue<string>();
        if (peftType is not null && peftType != "LORA")
            throw new InvalidDataException($"{path}: peft_type is '{peftType}'; only LORA adapters are supported");
        Reject(root, path, "use_dora", n => n.GetValueKind() == JsonValueKind.True, "DoRA is not supported");
        Reject(root, path, "fan_in_fan_out", n => n.GetValueKind() == JsonValueKind.True, "fan_in_fan_out (Conv1D layers) is not supported");
        Reject(root, path, "bias", n => n.GetValue<string>() != "none", "only bias \"none\" is supported");
        Reject(root, path, "rank_pattern", n => n is JsonObject o && o.Count > 0, "per-module ranks are not supported");
        Reject(root, path, "alpha_pattern", n => n is JsonObject o && o.Count > 0, "per-module alphas are not supported");
        Reject(root, path, "layers_to_transform", n => n.GetValueKind() != JsonValueKind.Null, "layer subsets are not supported");
        Reject(root, path, "lora_bias", n => n.GetValueKind() == JsonValueKind.True, "LoRA bias is not supported");
    }

    private static void Reject(JsonObject root, string path, string field, Func<JsonNode, bool> unsupported, string why)
    {
        if (root[field] is { } node && unsupported(node))
            throw new InvalidDataException($"{path}: field '{field}' = {node.ToJsonString()}: {why}");
    }

    private static object AsNumber(double value) => value == Math.Floor(value) && Math.Abs(value) < int.MaxValue ? (int)value : value;
}
