using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTune.Data.Shards;

/// <summary>
/// <c>&lt;DataRoot&gt;/shards/&lt;hash&gt;/manifest.json</c>: what was tokenized, how, and the shard files (paths relative to
/// the folder). Written last, so a folder with a manifest is complete. Also the payload of the <c>ft:preprocess:ready</c> event.
/// </summary>
public sealed record ShardManifest
{
    public const string FileName = "manifest.json";
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The output hash: SHA-256 over dataset hash, model files hash, max length and options.</summary>
    public required string Hash { get; init; }
    public required string DatasetId { get; init; }
    public required string DatasetHash { get; init; }
    public required string Model { get; init; }
    /// <summary>Hex SHA-256 of tokenizer.json + tokenizer_config.json (also in every shard header).</summary>
    public required string TokenizerHash { get; init; }
    /// <summary>Hex SHA-256 of the chat template the records were rendered with (ChatTemplate.ContentHash); null in manifests
    /// written before it was recorded. A trainer refuses shards whose tokenizer or template differs from its model's.</summary>
    public string? TemplateHash { get; init; }
    public required int MaxLength { get; init; }
    /// <summary>"truncate" or "drop".</summary>
    public required string OverLong { get; init; }
    public required bool TrainOnInputs { get; init; }
    /// <summary>System prompt added to records that have none before rendering (null: none).</summary>
    public string? SystemPrompt { get; init; }
    public required int FormatVersion { get; init; }
    public required IReadOnlyList<ShardFileInfo> Files { get; init; }
    public required DateTimeOffset Created { get; init; }

    public ShardFileInfo? Split(string split) => Files.FirstOrDefault(f => f.Split == split);

    /// <summary>Split names: the dataset's own "train" and "eval", or "records" (every record in file order) when requested.</summary>
    public const string TrainSplit = "train", EvalSplit = "eval", RecordsSplit = "records";

    public static ShardManifest Load(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        try
        {
            return JsonSerializer.Deserialize<ShardManifest>(File.ReadAllBytes(path), Json)
                ?? throw new InvalidDataException($"{path}: empty manifest");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: invalid manifest: {ex.Message}", ex);
        }
    }
}

/// <summary>One shard file: split ("train" or "eval"), file name, counts. Records are never packed (the trainer packs).</summary>
public sealed record ShardFileInfo(string Split, string File, long Records, long Tokens, long TargetTokens, long Truncated, long Dropped);
