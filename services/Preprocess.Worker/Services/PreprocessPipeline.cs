using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using FineTune.Data;
using FineTune.Data.Shards;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Training.Preprocessing;

namespace Preprocess.Worker.Services;

/// <summary>
/// Dataset → token shards, idempotent by content. The output hash is SHA-256 over the dataset hash, the model's
/// tokenization files (tokenizer.json, tokenizer_config.json, chat_template.jinja, generation_config.json, config.json),
/// max length, over-long policy, trainOnInputs, system prompt, the splits and the shard format version; when
/// <c>shards/&lt;hash&gt;/manifest.json</c> exists the work is skipped. Otherwise every record of the train and eval splits
/// (or every record in file order) goes through FineTune.Training's <see cref="ExamplePreprocessor"/> — the one
/// preprocessing step, which in-process training runs too — into <see cref="PreprocessedShard"/> files, one record per
/// example (the trainer packs; docs/training.md "Preprocessing: one path"), and the shards plus manifest are written to a
/// temp folder renamed into place.
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

    /// <summary>The dataset and model folder a request names, resolved and hashed.</summary>
    private sealed record Resolved(DatasetInfo Info, string ModelFolder, string FilesHash, string Hash);

    public async Task<PreprocessOutcome> RunAsync(PreprocessRequest request, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(request, cancellationToken);
        var folder = root.Shard(resolved.Hash);
        if (File.Exists(Path.Combine(folder, ShardManifest.FileName)))
        {
            logger.LogInformation("Shards {Hash} for dataset {DatasetId} exist already: skipped", resolved.Hash, resolved.Info.Id);
            return new PreprocessOutcome(resolved.Hash, folder, ShardManifest.Load(folder), Skipped: true);
        }

        ConversationEncoder encoder;
        using (Source.StartActivity("preprocess load tokenizer"))
            encoder = encoders.Get(resolved.ModelFolder, resolved.FilesHash);
        var preprocessor = new ExamplePreprocessor(encoder, Options(request));

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
                try { files.Add(await WriteSplitAsync(preprocessor, resolved.Info.Id, split, source, temp, cancellationToken)); }
                catch (InvalidDataException ex) { throw new InvalidMessageException(ex.Message); }   // a damaged record: no retry helps
            }
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            var records = files.Sum(f => f.Records + f.Dropped);
            var tokens = files.Sum(f => f.Tokens);
            RecordsPerSecond.Record(records / seconds);
            TokensPerSecond.Record(tokens / seconds);

            var manifest = PreprocessedShard.Manifest(new ShardOrigin(resolved.Hash, resolved.Info.Id, resolved.Info.Hash, request.Model), preprocessor, files);
            await PreprocessedShard.WriteManifestAsync(temp, manifest, cancellationToken);
            try
            {
                Directory.Move(temp, folder);
            }
            catch (IOException) when (Directory.Exists(folder))
            {
                // Another worker finished the same request first: its output is identical by construction.
                return new PreprocessOutcome(resolved.Hash, folder, ShardManifest.Load(folder), Skipped: true);
            }
            logger.LogInformation("Wrote shards {Hash} for dataset {DatasetId}: {Records} records, {Tokens} tokens in {Seconds:F2}s",
                resolved.Hash, resolved.Info.Id, records, tokens, seconds);
            return new PreprocessOutcome(resolved.Hash, folder, manifest, Skipped: false);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The request's preprocessing options; a request no retry can fix is refused.</summary>
    internal static PreprocessOptions Options(PreprocessRequest request)
    {
        if (request.MaxLength < 2) throw new InvalidMessageException($"maxLength {request.MaxLength}: at least 2 tokens");
        if (request.OverLong is not (PreprocessOptions.Truncate or PreprocessOptions.Drop))
            throw new InvalidMessageException($"overLong '{request.OverLong}': truncate or drop");
        return new()
        {
            MaxLength = request.MaxLength,
            OverLong = request.OverLong,
            TrainOnInputs = request.TrainOnInputs,
            SystemPrompt = request.SystemPrompt,
        };
    }

    private async Task<Resolved> ResolveAsync(PreprocessRequest request, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("preprocess resolve");
        var info = (DatasetId.IsValid(request.DatasetId) ? await datasets.ReadInfoAsync(request.DatasetId, cancellationToken) : null)
            ?? throw new InvalidMessageException($"dataset '{request.DatasetId}' does not exist");
        string modelFolder;
        try { modelFolder = root.Model(request.Model); }
        catch (ArgumentException ex) { throw new InvalidMessageException(ex.Message); }
        if (!File.Exists(Path.Combine(modelFolder, "tokenizer.json")))
            throw new InvalidMessageException($"model '{request.Model}' has no tokenizer.json under the data root's models/ folder");
        var filesHash = HashFiles(modelFolder);
        var hash = OutputHash(info.Hash, filesHash, request);
        activity?.SetTag("dataset.id", info.Id);
        activity?.SetTag("preprocess.hash", hash);
        return new Resolved(info, modelFolder, filesHash, hash);
    }

    private async Task<ShardFileInfo> WriteSplitAsync(ExamplePreprocessor preprocessor, string datasetId, string split, string source, string folder,
        CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity($"preprocess tokenize {split}");
        var info = await PreprocessedShard.WriteAsync(preprocessor, datasets.EnumerateAsync(datasetId, source, cancellationToken), folder, split, cancellationToken);
        RecordsCounter.Add(info.Records, new KeyValuePair<string, object?>("split", split));
        TokensCounter.Add(info.Tokens, new KeyValuePair<string, object?>("split", split));
        activity?.SetTag("preprocess.records", info.Records);
        activity?.SetTag("preprocess.tokens", info.Tokens);
        activity?.SetTag("preprocess.truncated", info.Truncated);
        activity?.SetTag("preprocess.dropped", info.Dropped);
        return info;
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
            // "manifest-3": records are never packed, and records without a target after position 0 are dropped
            // (ExamplePreprocessor.Fit); older shard folders are not reused
            "ft-preprocess", ShardFormat.Version, "manifest-3", datasetHash, filesHash, request.MaxLength, request.OverLong,
            request.TrainOnInputs ? "inputs" : "assistant")
            + (request.Records ? "\nrecords" : "")
            + (request.SystemPrompt is { } system ? "\nsystem\n" + system : ""))));
}
