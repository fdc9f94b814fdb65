using System.Text.Json;
using FineTune.Data;
using FineTune.Data.Shards;

namespace FineTune.Training.Preprocessing;

/// <summary>
/// A shard folder from <see cref="ExamplePreprocessor"/>: each split of records into one shard file (<see cref="ShardFormat"/>,
/// one record per kept example, unpacked) and the manifest saying how they were made. What the preprocess worker writes,
/// and what <see cref="Jobs.ShardSource"/> reads back as the same examples in-process preprocessing gives.
/// </summary>
public static class PreprocessedShard
{
    /// <summary>Writes <paramref name="records"/> to <c>&lt;folder&gt;/&lt;split&gt;.bin</c>; returns its manifest entry.</summary>
    public static async Task<ShardFileInfo> WriteAsync(ExamplePreprocessor preprocessor, IAsyncEnumerable<Conversation> records,
        string folder, string split, CancellationToken cancellationToken = default)
    {
        var file = $"{split}.bin";
        var tokenizerHash = Convert.FromHexString(preprocessor.Encoder.Tokenizer.ContentHash);
        long truncated = 0, dropped = 0;
        using var writer = new ShardWriter(Path.Combine(folder, file), tokenizerHash, preprocessor.Options.MaxLength);
        await foreach (var record in records.WithCancellation(cancellationToken))
        {
            var result = preprocessor.Process(record);
            if (result.Fate == ExampleFate.Truncated) truncated++;
            if (result.Example is { } example) writer.Add(example.InputIds, example.LossMask);
            else dropped++;
        }
        writer.Complete();
        return new ShardFileInfo(split, file, writer.Records, writer.Tokens, writer.TargetTokens, truncated, dropped);
    }

    /// <summary>The manifest of shards <paramref name="preprocessor"/> wrote from dataset <paramref name="origin"/>.</summary>
    public static ShardManifest Manifest(ShardOrigin origin, ExamplePreprocessor preprocessor, IReadOnlyList<ShardFileInfo> files) => new()
    {
        Hash = origin.Hash,
        DatasetId = origin.DatasetId,
        DatasetHash = origin.DatasetHash,
        Model = origin.Model,
        TokenizerHash = preprocessor.Encoder.Tokenizer.ContentHash,
        TemplateHash = preprocessor.Encoder.Template.ContentHash,
        MaxLength = preprocessor.Options.MaxLength,
        OverLong = preprocessor.Options.OverLong,
        TrainOnInputs = preprocessor.Options.TrainOnInputs,
        SystemPrompt = preprocessor.Options.SystemPrompt,
        FormatVersion = (int)ShardFormat.Version,
        Files = files,
        Created = DateTimeOffset.UtcNow,
    };

    /// <summary>Writes <c>manifest.json</c> into <paramref name="folder"/>: last, so a folder with a manifest is complete.</summary>
    public static Task WriteManifestAsync(string folder, ShardManifest manifest, CancellationToken cancellationToken = default) =>
        File.WriteAllBytesAsync(Path.Combine(folder, ShardManifest.FileName), JsonSerializer.SerializeToUtf8Bytes(manifest, ShardManifest.Json), cancellationToken);
}

/// <summary>What shards were made from: the output hash, the dataset (id and content hash) and the model name.</summary>
public sealed record ShardOrigin(string Hash, string DatasetId, string DatasetHash, string Model);
