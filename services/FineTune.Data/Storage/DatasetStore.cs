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
        var errors = new List<DataIssue>();
        var warnings = new List<DataIssue>();
        long errorCount = 0, warningCount = 0;
        void Report(DataIssue issue)
        {
            if (issue.Severity == IssueSeverity.Error)
            {
                if (errorCount++ < options.MaxReportedIssues) errors.Add(issue);
            }
            else if (warningCount++ < options.MaxReportedIssues) warnings.Add(issue);
        }

        var counting = new CountingStream(upload);
        var reader = new DatasetReader(options.Format, options.MaxRecordBytes);
        var seen = new Dictionary<UInt128, long>();
        int records = 0, duplicates = 0, dropped = 0, maxTokens = 0;
        long turns = 0, chars = 0, tokens = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var line = new ArrayBufferWriter<byte>(4096);
        var recordHash = new byte[32];

        await using (var output = new FileStream(Path.Combine(temp, DatasetFiles.Records), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
        {
            await foreach (var item in reader.ReadAsync(counting, cancellationToken))
            {
                if (item.Issues is { } issues)
                    foreach (var issue in issues) Report(issue);
                if (item.Conversation is not { } conversation) continue;

                line.ResetWrittenCount();
                CanonicalJson.Write(conversation, line);
                SHA256.HashData(line.WrittenSpan, recordHash);
                var key = BinaryPrimitives.ReadUInt128LittleEndian(recordHash);
                if (seen.TryGetValue(key, out var firstRecord))
                {
                    duplicates++;
                    Report(DataIssue.Warning(item.Line, item.Record, null,
                        $"duplicate of record {firstRecord}{(options.DropDuplicates ? " (dropped)" : "")}"));
                    if (options.DropDuplicates) { dropped++; continue; }
                }
                else seen[key] = item.Record;

                var estimate = TokenEstimate.Of(conversation);
                if (options.MaxTokens is { } limit)
                {
                    if (options.TokenCounter is { } counter)
                    {
                        var exact = counter.Count(conversation);
                        if (exact > limit)
                            Report(DataIssue.Error(item.Line, item.Record, null, $"record is {exact} tokens long, over the {limit}-token limit"));
                    }
                    else if (estimate > limit)
                        Report(DataIssue.Warning(item.Line, item.Record, null, $"record is about {estimate} tokens long (estimate), over the {limit}-token limit"));
                }
                if (errorCount > 0) continue; // keep validating, stop writing: this upload is rejected

                records++;
                turns += conversation.Messages.Count;
                chars += conversation.Chars;
                tokens += estimate;
                maxTokens = Math.Max(maxTokens, estimate);
                line.Write("\n"u8);
                hash.AppendData(line.WrittenSpan);
                await output.WriteAsync(line.WrittenMemory, cancellationToken);
            }
            if (errorCount == 0 && records == 0)
                Report(DataIssue.Error(null, null, null, "the file holds no records"));
            if (errorCount == 0) await output.FlushAsync(cancellationToken);
        }
        if (errorCount > 0)
            return new IngestResult.Rejected(errors, errorCount, reader.DetectedFormat, warnings, warningCount);

        var contentHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        var id = DatasetId.FromHash(contentHash);
        var evalMembers = DatasetSplit.EvalMembers(records, options.EvalRatio, options.Seed);
        var evalCount = await WriteSplitAsync(temp, evalMembers, cancellationToken);
        var info = new DatasetInfo
        {
            Id = id,
            Hash = contentHash,
            Name = Label(options.Name),
            Format = reader.DetectedFormat,
            Stats = new DatasetStats(records, turns, chars, tokens, maxTokens),
            TrainRecords = records - evalCount,
            EvalRecords = evalCount,
            EvalRatio = options.EvalRatio,
            Seed = options.Seed,
            Duplicates = duplicates,
            DuplicatesDropped = dropped,
            Warnings = (int)Math.Min(warningCount, int.MaxValue),
            UploadBytes = counting.BytesRead,
            Created = DateTimeOffset.UtcNow,
        };
        await File.WriteAllBytesAsync(Path.Combine(temp, DatasetFiles.Meta), JsonSerializer.SerializeToUtf8Bytes(info, Json), cancellationToken);

        var final = root.Dataset(id);
        var existed = false;
        try
        {
            Directory.Move(temp, final);
        }
        catch (IOException) when (Directory.Exists(final))
        {
            existed = true;
            info = await ReadInfoAsync(id, cancellationToken) ?? info;
        }
        return new IngestResult.Stored(info, existed, reader.DetectedFormat, warnings, warningCount);
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
}
