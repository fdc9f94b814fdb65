using FineTune.Contracts.Jobs;
using FineTune.Data.Shards;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Training.Preprocessing;
using FineTune.Training.Sft;

namespace FineTune.Training.Jobs;

/// <summary>
/// A job's preprocessed data: a folder the preprocess worker wrote (<c>shards/&lt;hash&gt;/manifest.json</c> plus one shard
/// file per split). Before any record is used, the manifest is checked against the job: the tokenizer and the chat template
/// must be the model's own (content hashes), the loss-mask mode and the system prompt the job's, and no record may have been
/// cut shorter than the job's max_seq_len; any difference is a <see cref="TrainingJobException"/> naming the manifest and
/// both values, never a silent retokenization.
/// </summary>
public sealed class ShardSource
{
    private ShardSource(string folder, ShardManifest manifest)
    {
        Folder = folder;
        Manifest = manifest;
    }

    public string Folder { get; }
    public ShardManifest Manifest { get; }
    private string ManifestPath => Path.Combine(Folder, ShardManifest.FileName);

    public static ShardSource Open(string folder)
    {
        if (!File.Exists(Path.Combine(folder, ShardManifest.FileName)))
            throw new TrainingJobException($"job: shards: no {ShardManifest.FileName} in {folder} (preprocessing did not finish there)");
        try
        {
            return new ShardSource(folder, ShardManifest.Load(folder));
        }
        catch (InvalidDataException ex)
        {
            throw new TrainingJobException($"job: shards: {ex.Message}", ex);
        }
    }

    /// <summary>Throws when these shards are not what in-process encoding of the job's data would give.</summary>
    public void CheckMatches(ConversationEncoder encoder, string modelFolder, TrainingJob job)
    {
        if (!string.Equals(Manifest.TokenizerHash, encoder.Tokenizer.ContentHash, StringComparison.OrdinalIgnoreCase))
            throw Mismatch($"were tokenized with tokenizer {Short(Manifest.TokenizerHash)} (model '{Manifest.Model}'), but the job's model {modelFolder} has tokenizer {Short(encoder.Tokenizer.ContentHash)}");
        if (Manifest.TemplateHash is null)
            throw Mismatch("record no chat-template hash (written by an older preprocess worker), so the template they were rendered with is unknown");
        if (!string.Equals(Manifest.TemplateHash, encoder.Template.ContentHash, StringComparison.OrdinalIgnoreCase))
            throw Mismatch($"were rendered with chat template {Short(Manifest.TemplateHash)}, but the job's model {modelFolder} has chat template {Short(encoder.Template.ContentHash)}");
        if (Manifest.TrainOnInputs != job.Sft.TrainOnInputs)
            throw Mismatch($"have train_on_inputs={Lower(Manifest.TrainOnInputs)} loss masks, but the job sets sft.train_on_inputs={Lower(job.Sft.TrainOnInputs)}");
        if (!string.Equals(Manifest.SystemPrompt, job.Sft.SystemPrompt, StringComparison.Ordinal))
            throw Mismatch($"were rendered with system prompt {Quote(Manifest.SystemPrompt)}, but the job sets sft.system_prompt {Quote(job.Sft.SystemPrompt)}");
        var cut = Manifest.Files.Where(f => f.Truncated + f.Dropped > 0).ToList();
        if (Manifest.MaxLength < job.Sft.MaxSeqLen && cut.Count > 0)
            throw Mismatch($"cut records to {Manifest.MaxLength} tokens ({string.Join(", ", cut.Select(f => $"{f.Split}: {f.Truncated} truncated, {f.Dropped} dropped"))}), shorter than the job's sft.max_seq_len {job.Sft.MaxSeqLen}");
    }

    public bool Has(string split) => Manifest.Split(split) is not null;

    /// <summary>Every record of <paramref name="split"/>, in file order, with the split's truncated and dropped counts.</summary>
    public PreprocessedExamples Read(string split)
    {
        var info = Manifest.Split(split) ?? throw new TrainingJobException(
            $"job: shards: {ManifestPath} has no '{split}' split (it has {string.Join(", ", Manifest.Files.Select(f => f.Split))})");
        var path = Path.Combine(Folder, info.File);
        if (!File.Exists(path)) throw new TrainingJobException($"job: shards: {path} is missing (listed in {ManifestPath})");
        try
        {
            using var reader = ShardReader.Open(path);
            var hash = Convert.ToHexStringLower(reader.TokenizerHash);
            if (!string.Equals(hash, Manifest.TokenizerHash, StringComparison.OrdinalIgnoreCase))
                throw Mismatch($"file {info.File} was written with tokenizer {Short(hash)}, not the manifest's {Short(Manifest.TokenizerHash)}");
            if (reader.Count != info.Records)
                throw Mismatch($"file {info.File} holds {reader.Count} records, the manifest says {info.Records}");
            var examples = new List<TokenizedExample>(reader.Count);
            for (var i = 0; i < reader.Count; i++)
            {
                var (tokens, mask) = reader.Read(i);
                examples.Add(new TokenizedExample(tokens, mask));
            }
            return new PreprocessedExamples(examples, info.Truncated, info.Dropped);
        }
        catch (InvalidDataException ex)
        {
            throw new TrainingJobException($"job: shards: {ex.Message}", ex);
        }
    }

    private TrainingJobException Mismatch(string what) =>
        new($"job: shards: {ManifestPath}: the shards {what}. Re-run preprocessing for this job's model and options (POST /api/datasets/{Manifest.DatasetId}/preprocess), or drop 'shards' to tokenize in-process.");

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;
    private static string Lower(bool value) => value ? "true" : "false";
    private static string Quote(string? text) => text is null ? "(none)" : $"'{text}'";
}
