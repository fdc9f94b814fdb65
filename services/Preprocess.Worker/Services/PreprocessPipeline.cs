using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FineTune.Data;
using FineTune.Data.Shards;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Models.Core.ChatTemplates;

namespace Preprocess.Worker.Services;

/// <summary>
/// Dataset → token shards, idempotent by content. The output hash is SHA-256 over the dataset hash, the model's
/// tokenization files (tokenizer.json, tokenizer_config.json, chat_template.jinja, generation_config.json, config.json),
/// max length, over-long policy, trainOnInputs, packing, the splits and the shard format version; when
/// <c>shards/&lt;hash&gt;/manifest.json</c> exists the work is skipped. Otherwise every record of the train and eval splits
/// is rendered with the model's chat template and tokenized by <see cref="ConversationEncoder"/>, over-long records are
/// truncated or dropped (and counted), and the shards plus manifest are written to a temp folder renamed into place.
/// </summary>
public sealed class PreprocessPipeline(DataRoot root, DatasetStore datasets, EncoderCache encoders, ILogger<PreprocessPipeline> logger)
{
    public const string TelemetryName = "FineTune.Preprocess";
    private static readonly ActivitySource Source = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Counter<long> RecordsCounter = Meter.CreateCounter<long>("ft.preprocess.records", "{record}", "Records tokenized");
    private static readonly Counter<long> TokensCounter = Meter.CreateCounter<long>("ft.preprocess.tokens", "{token}", "Tokens written to shards");
    private static readonly Histogram<double> RecordsPerSecond = Meter.CreateHistogram<double>("ft.preprocess.records_per_second", "{record}/s", "Throughput of one preprocess run");
    private static readonly Histogram<double> TokensPerSecond = Meter.CreateHistogram<double>("ft.preprocess.tokens_per_second", "{token}/s", "Throughput of one preprocess run");

    private static readonly string[] ModelFiles = ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json", "config.json"];

    public async Task<PreprocessOutcome> RunAsync(PreprocessRequest request, CancellationToken cancellationToken)
    {
        DatasetInfo info;
        string modelFolder, filesHash, hash;
        using (var resolve = Source.StartActivity("preprocess resolve"))
        {
            info = (DatasetId.IsValid(request.DatasetId) ? await datasets.ReadInfoAsync(request.DatasetId, cancellationToken) : null)
                ?? throw new InvalidMessageException($"dataset '{request.DatasetId}' does not exist");
            try { modelFolder = root.Model(request.Model); }
            catch (ArgumentException ex) { throw new InvalidMessageException(ex.Message); }
            if (!File.Exists(Path.Combine(modelFolder, "tokenizer.json")))
                throw new InvalidMessageException($"model '{request.Model}' has no tokenizer.json under the data root's models/ folder");
            filesHash = HashFiles(modelFolder);
            hash = OutputHash(info.Hash, filesHash, request);
            resolve?.SetTag("dataset.id", info.Id);
            resolve?.SetTag("preprocess.hash", hash);
        }

        var folder = root.Shard(hash);
        if (File.Exists(Path.Combine(folder, ShardManifest.FileName)))
        {
            logger.LogInformation("Shards {Hash} for dataset {DatasetId} exist already: skipped", hash, info.Id);
            return new PreprocessOutcome(hash, folder, ShardManifest.Load(folder), Skipped: true);
        }

        ConversationEncoder encoder;
        using (Source.StartActivity("preprocess load tokenizer"))
            encoder = encoders.Get(modelFolder, filesHash);

        Directory.CreateDirectory(root.Shards);
        var temp = Path.Combine(root.Shards, $".tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            var clock = Stopwatch.StartNew();
            var files = new List<ShardFileInfo>();
            (string Split, string Source)[] splits = request.Records
                ? [(ShardManifest.RecordsSplit, DatasetFiles.Records)]
                : [(ShardManifest.TrainSplit, DatasetFiles.Train), (ShardManifest.EvalSplit, DatasetFiles.Eval)];
            foreach (var (split, source) in splits)
            {
                try { files.Add(await WriteSplitAsync(encoder, info.Id, split, source, temp, request, cancellationToken)); }
                catch (InvalidDataException ex) { throw new InvalidMessageException(ex.Message); }   // a damaged record: no retry helps
            }
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            var records = files.Sum(f => f.Records + f.Dropped);
            var tokens = files.Sum(f => f.Tokens);
            RecordsPerSecond.Record(records / seconds);
            TokensPerSecond.Record(tokens / seconds);

            var manifest = new ShardManifest
            {
                Hash = hash,
                DatasetId = info.Id,
                DatasetHash = info.Hash,
                Model = request.Model,
                TokenizerHash = encoder.Tokenizer.ContentHash,
                TemplateHash = encoder.Template.ContentHash,
                MaxLength = request.MaxLength,
                OverLong = request.OverLong,
                TrainOnInputs = request.TrainOnInputs,
                SystemPrompt = request.SystemPrompt,
                Packed = request.Pack,
                FormatVersion = (int)ShardFormat.Version,
                Files = files,
                Created = DateTimeOffset.UtcNow,
            };
            await File.WriteAllBytesAsync(Path.Combine(temp, ShardManifest.FileName), JsonSerializer.SerializeToUtf8Bytes(manifest, ShardManifest.Json), cancellationToken);
            try
            {
                Directory.Move(temp, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another worker finished the same request first: its output is identical by construction.
                return new PreprocessOutcome(hash, folder, ShardManifest.Load(folder), Skipped: true);
            }
            logger.LogInformation("Wrote shards {Hash} for dataset {DatasetId}: {Records} records, {Tokens} tokens in {Seconds:F2}s",
                hash, info.Id, records, tokens, seconds);
            return new PreprocessOutcome(hash, folder, manifest, Skipped: false);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private async Task<ShardFileInfo> WriteSplitAsync(ConversationEncoder encoder, string datasetId, string split, string source, string folder,
        PreprocessRequest request, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity($"preprocess tokenize {split}");
        var file = $"{split}.bin";
        var tokenizerHash = Convert.FromHexString(encoder.Tokenizer.ContentHash);
        long truncated = 0, dropped = 0;
        using var writer = new ShardWriter(Path.Combine(folder, file), tokenizerHash, request.MaxLength);
        await foreach (var record in datasets.EnumerateAsync(datasetId, source, cancellationToken))
        {
            var messages = record.Messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList();
            if (request.SystemPrompt is { } system && (messages.Count == 0 || messages[0].Role != "system"))
                messages.Insert(0, new ChatMessage("system", system)); // as in-process training does (ConversationFile)
            var encoded = encoder.Encode(messages, request.TrainOnInputs);
            ReadOnlySpan<int> ids = encoded.InputIds;
            ReadOnlySpan<bool> mask = encoded.LossMask;
            if (ids.Length > request.MaxLength)
            {
                if (request.OverLong == "drop") { dropped++; continue; }
                ids = ids[..request.MaxLength];
                mask = mask[..request.MaxLength];
                if (!mask.Contains(true)) { dropped++; continue; } // nothing left to learn from
                truncated++;
            }
            writer.Add(ids, mask, request.Pack);
        }
        writer.Complete();
        RecordsCounter.Add(writer.Records, new KeyValuePair<string, object?>("split", split));
        TokensCounter.Add(writer.Tokens, new KeyValuePair<string, object?>("split", split));
        activity?.SetTag("preprocess.records", writer.Records);
        activity?.SetTag("preprocess.tokens", writer.Tokens);
        activity?.SetTag("preprocess.truncated", truncated);
        activity?.SetTag("preprocess.dropped", dropped);
        return new ShardFileInfo(split, file, writer.Records, writer.Tokens, writer.TargetTokens, truncated, dropped, writer.PackCount);
    }

    internal static string HashFiles(string modelFolder)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in ModelFiles)
        {
            var path = Path.Combine(modelFolder, name);
            sha.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            if (File.Exists(path)) sha.AppendData(File.ReadAllBytes(path));
            sha.AppendData("\n"u8);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    internal static string OutputHash(string datasetHash, string filesHash, PreprocessRequest request) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n',
            // "manifest-2": manifests record the template hash and the system prompt (older shard folders are not reused)
            "ft-preprocess", ShardFormat.Version, "manifest-2", datasetHash, filesHash, request.MaxLength, request.OverLong,
            request.TrainOnInputs ? "inputs" : "assistant", request.Pack ? "packed" : "unpacked")
            + (request.Records ? "\nrecords" : "")
            + (request.SystemPrompt is { } system ? "\nsystem\n" + system : ""))));
}
