using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using FineTune.Data.Import;

namespace FineTune.Data.Storage;

/// <summary>
/// Datasets on the shared volume: immutable and content-addressed. An upload is read once, streaming: each record is
/// validated and written in canonical form to a private temp folder under <c>datasets/</c> while the SHA-256 of the canonical
/// lines accumulates. If any error was found the temp folder is deleted (nothing stored). Otherwise the split files and
/// meta.json are written next to it and the folder is renamed to <c>datasets/&lt;id&gt;</c> in one step; when that name
/// exists already (same content, perhaps uploaded concurrently) the temp folder is dropped and the existing dataset wins.
/// </summary>
public sealed class DatasetStore(DataRoot root)
{
    /// <summary>How dataset metadata (meta.json, DatasetInfo) is serialised, on disk and in the registry.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public DataRoot Root => root;

    public async Task<IngestResult> IngestAsync(Stream upload, IngestOptions options, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(root.Datasets);
        var temp = Path.Combine(root.Datasets, $".incoming-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            return await IngestIntoAsync(upload, options, temp, cancellationToken);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    private async Task<IngestResult> IngestIntoAsync(Stream upload, IngestOptions options, string temp, CancellationToken cancellationToken)
    {
        var log = new IssueLog(options.MaxReportedIssues);
        var counting = new CountingStream(upload);
        var reader = new DatasetReader(options.Format, options.MaxRecordBytes);
        var tally = new RecordTally();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var output = new FileStream(Path.Combine(temp, DatasetFiles.Records), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            await WriteRecordsAsync(reader.ReadAsync(counting, cancellationToken), output, hash, options, log, tally, cancellationToken);
            if (log.ErrorCount == 0 && tally.Records == 0)
                log.Report(DataIssue.Error(null, null, null, "the file holds no records"));
            if (log.ErrorCount == 0) await output.FlushAsync(cancellationToken);
        }
        if (log.ErrorCount > 0)
            return new IngestResult.Rejected(log.Errors, log.ErrorCount, reader.DetectedFormat, log.Warnings, log.WarningCount);

        var contentHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        var id = DatasetId.FromHash(contentHash);
        var evalMembers = DatasetSplit.EvalMembers(tally.Records, options.EvalRatio, options.Seed);
        var evalCount = await WriteSplitAsync(temp, evalMembers, cancellationToken);
        var info = new DatasetInfo
        {
            Id = id,
            Hash = contentHash,
            Name = Label(options.Name),
            Format = reader.DetectedFormat,
            Stats = new DatasetStats(tally.Records, tally.Turns, tally.Chars, tally.Tokens, tally.MaxTokens),
            TrainRecords = tally.Records - evalCount,
            EvalRecords = evalCount,
            EvalRatio = options.EvalRatio,
            Seed = options.Seed,
            Duplicates = tally.Duplicates,
            DuplicatesDropped = tally.Dropped,
            Warnings = (int)Math.Min(log.WarningCount, int.MaxValue),
            UploadBytes = counting.BytesRead,
            Created = DateTimeOffset.UtcNow,
        };
        await File.WriteAllBytesAsync(Path.Combine(temp, DatasetFiles.Meta), JsonSerializer.SerializeToUtf8Bytes(info, Json), cancellationToken);
        var (stored, existed) = await PublishAsync(temp, info, cancellationToken);
        return new IngestResult.Stored(stored, existed, reader.DetectedFormat, log.Warnings, log.WarningCount);
    }

    /// <summary>
    /// Validates each record, reports duplicates and token-limit breaches, and writes the canonical lines (hashing them)
    /// until the first error: after that it keeps validating but stops writing, as the upload is rejected.
    /// </summary>
    private static async Task WriteRecordsAsync(IAsyncEnumerable<ImportItem> items, FileStream output, IncrementalHash hash,
        IngestOptions options, IssueLog log, RecordTally tally, CancellationToken cancellationToken)
    {
        var seen = new Dictionary<UInt128, long>();
        var line = new ArrayBufferWriter<byte>(4096);
        var recordHash = new byte[32];
        await foreach (var item in items)
        {
            if (item.Issues is { } issues)
                foreach (var issue in issues) log.Report(issue);
            if (item.Conversation is not { } conversation) continue;

            line.ResetWrittenCount();
            CanonicalJson.Write(conversation, line);
            SHA256.HashData(line.WrittenSpan, recordHash);
            var key = BinaryPrimitives.ReadUInt128LittleEndian(recordHash);
            if (seen.TryGetValue(key, out var firstRecord))
            {
                tally.Duplicates++;
                log.Report(DataIssue.Warning(item.Line, item.Record, null,
                    $"duplicate of record {firstRecord}{(options.DropDuplicates ? " (dropped)" : "")}"));
                if (options.DropDuplicates) { tally.Dropped++; continue; }
            }
            else seen[key] = item.Record;

            var estimate = TokenEstimate.Of(conversation);
            CheckTokenLimit(item, conversation, estimate, options, log);
            if (log.ErrorCount > 0) continue; // keep validating, stop writing: this upload is rejected

            tally.Records++;
            tally.Turns += conversation.Messages.Count;
            tally.Chars += conversation.Chars;
            tally.Tokens += estimate;
            tally.MaxTokens = Math.Max(tally.MaxTokens, estimate);
            line.Write("\n"u8);
            hash.AppendData(line.WrittenSpan);
            await output.WriteAsync(line.WrittenMemory, cancellationToken);
        }
    }

    /// <summary>Over <see cref="IngestOptions.MaxTokens"/>: an error when an exact counter is given, else a warning on the estimate.</summary>
    private static void CheckTokenLimit(ImportItem item, Conversation conversation, int estimate, IngestOptions options, IssueLog log)
    {
        if (options.MaxTokens is not { } limit) return;
        if (options.TokenCounter is { } counter)
        {
            var exact = counter.Count(conversation);
            if (exact > limit)
                log.Report(DataIssue.Error(item.Line, item.Record, null, $"record is {exact} tokens long, over the {limit}-token limit"));
        }
        else if (estimate > limit)
            log.Report(DataIssue.Warning(item.Line, item.Record, null, $"record is about {estimate} tokens long (estimate), over the {limit}-token limit"));
    }

    /// <summary>Renames the temp folder to datasets/&lt;id&gt;; when that exists already (same content), the stored one wins.</summary>
    private async Task<(DatasetInfo Info, bool Existed)> PublishAsync(string temp, DatasetInfo info, CancellationToken cancellationToken)
    {
        var final = root.Dataset(info.Id);
        try
        {
            Directory.Move(temp, final);
            return (info, false);
        }
        catch (IOException) when (Directory.Exists(final))
        {
            return (await ReadInfoAsync(info.Id, cancellationToken) ?? info, true);
        }
    }

    private static async Task<int> WriteSplitAsync(string folder, System.Collections.BitArray evalMembers, CancellationToken cancellationToken)
    {
        var evalCount = 0;
        await using var input = new FileStream(Path.Combine(folder, DatasetFiles.Records), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        await using var train = new FileStream(Path.Combine(folder, DatasetFiles.Train), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        await using var eval = new FileStream(Path.Combine(folder, DatasetFiles.Eval), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var lines = new Utf8LineReader(input, int.MaxValue - 16);
        var index = 0;
        while (await lines.ReadLineAsync(cancellationToken) is { } line)
        {
            var target = evalMembers[index++] ? eval : train;
            if (target == eval) evalCount++;
            await target.WriteAsync(line.Bytes, cancellationToken);
            target.WriteByte((byte)'\n');
        }
        return evalCount;
    }

    private static string Label(string name)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0) trimmed = "dataset";
        return trimmed.Length > 200 ? trimmed[..200] : trimmed;
    }

    public async Task<DatasetInfo?> ReadInfoAsync(string id, CancellationToken cancellationToken = default)
    {
        if (!DatasetId.IsValid(id)) return null;
        var path = Path.Combine(root.Dataset(id), DatasetFiles.Meta);
        if (!File.Exists(path)) return null;
        await using var stream = File.OpenRead(path);
        return await JsonSerializer.DeserializeAsync<DatasetInfo>(stream, Json, cancellationToken);
    }

    /// <summary>Reads the first <paramref name="count"/> canonical records of a split file (records, train or eval).</summary>
    public async Task<IReadOnlyList<Conversation>> ReadRecordsAsync(string id, string file, int count, CancellationToken cancellationToken = default)
    {
        var result = new List<Conversation>();
        await foreach (var c in EnumerateAsync(id, file, cancellationToken))
        {
            if (result.Count >= count) break;
            result.Add(c);
        }
        return result;
    }

    /// <summary>Streams the canonical records of one file of a dataset.</summary>
    public async IAsyncEnumerable<Conversation> EnumerateAsync(string id, string file,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (file is not (DatasetFiles.Records or DatasetFiles.Train or DatasetFiles.Eval))
            throw new ArgumentException($"'{file}' is not a dataset file.", nameof(file));
        await using var input = new FileStream(Path.Combine(root.Dataset(id), file), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var lines = new Utf8LineReader(input, int.MaxValue - 16);
        while (await lines.ReadLineAsync(cancellationToken) is { } line)
            if (!line.Bytes.IsEmpty) yield return ParseStored(id, file, line);
    }

    /// <summary>
    /// One canonical record. A stored file is valid by construction, so a bad line means it was altered or damaged on
    /// the volume: an <see cref="InvalidDataException"/> naming the dataset, file and line (a data error, not a bug).
    /// </summary>
    private static Conversation ParseStored(string id, string file, Utf8LineReader.Line line)
    {
        var where = $"dataset {id}, {file} line {line.Number}";
        if (Utf8Validation.Check(line.Bytes.Span, line.Number, null) is { } encoding)
            throw new InvalidDataException($"{where}: {encoding.Message}");
        try
        {
            return CanonicalJson.Parse(line.Bytes.Span);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new InvalidDataException($"{where}: not a canonical record ({ex.Message})");
        }
    }

    /// <summary>Removes a dataset folder: renamed away first (readers see it whole or not at all), then deleted.</summary>
    public void Delete(string id)
    {
        var folder = root.Dataset(id);
        if (!Directory.Exists(folder)) return;
        var doomed = Path.Combine(root.Datasets, $".deleting-{Guid.NewGuid():N}");
        Directory.Move(folder, doomed);
        Directory.Delete(doomed, recursive: true);
    }

    public bool Exists(string id) => DatasetId.IsValid(id) && File.Exists(Path.Combine(root.Dataset(id), DatasetFiles.Meta));

    /// <summary>The issues of one upload: every one counted, the first MaxReportedIssues of each severity kept.</summary>
    private sealed class IssueLog(int maxReported)
    {
        public List<DataIssue> Errors { get; } = [];
        public List<DataIssue> Warnings { get; } = [];
        public long ErrorCount { get; private set; }
        public long WarningCount { get; private set; }

        public void Report(DataIssue issue)
        {
            if (issue.Severity == IssueSeverity.Error)
            {
                if (ErrorCount++ < maxReported) Errors.Add(issue);
            }
            else if (WarningCount++ < maxReported) Warnings.Add(issue);
        }
    }

    /// <summary>Counts over the records written so far (for <see cref="DatasetStats"/>) and the duplicates seen.</summary>
    private sealed class RecordTally
    {
        public int Records { get; set; }
        public int Duplicates { get; set; }
        public int Dropped { get; set; }
        public int MaxTokens { get; set; }
        public long Turns { get; set; }
        public long Chars { get; set; }
        public long Tokens { get; set; }
    }
}
