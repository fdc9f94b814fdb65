// adapter_config.json in terms of this engine's LoraOptions: the file format itself (fields, order, what is rejected) is
// FineTune.Formats' PeftLoraConfig; this maps it to and from LoraOptions.
using FineTune.Formats.Peft;
using FineTune.Training.Lora;

namespace FineTune.Training.Peft;

/// <summary>
/// adapter_config.json as PEFT writes it (LoraConfig.save_pretrained: every field, keys sorted, two-space indent), and the
/// reader for adapters made elsewhere: it accepts the LoRA features this engine implements and names the field of any other.
/// </summary>
public static class PeftAdapterConfig
{
    public const string FileName = PeftLoraConfig.FileName;

    public static string Serialize(LoraOptions options, PeftAdapterMetadata metadata) => new PeftLoraConfig
    {
        Rank = options.Rank,
        Alpha = options.Alpha,
        Dropout = options.Dropout,
        TargetModules = options.TargetModules,
        UseRsLora = options.UseRsLora,
        ModulesToSave = options.ModulesToSave,
        BaseModel = metadata.BaseModelNameOrPath,
    }.Serialize(metadata.PeftVersion);

    /// <summary>Reads an adapter_config.json (ours or PEFT's) into LoRA options; unsupported features are rejected by field name.</summary>
    public static (LoraOptions Options, string? BaseModel) Read(string path)
    {
        var config = PeftLoraConfig.Read(path);
        var options = new LoraOptions
        {
            Rank = config.Rank,
            Alpha = config.Alpha,
            Dropout = config.Dropout,
            TargetModules = config.TargetModules,
            UseRsLora = config.UseRsLora,
            ModulesToSave = config.ModulesToSave,
        };
        return (options, config.BaseModel);
    }
}

/// <summary>Descriptive fields of adapter_config.json.</summary>
public sealed record PeftAdapterMetadata(string? BaseModelNameOrPath, string PeftVersion = "0.17.1");
