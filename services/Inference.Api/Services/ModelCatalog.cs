using FineTune.Training.Peft;
using Inference.Api.Model;

namespace Inference.Api.Services;

/// <summary>
/// The models under the data root, found on disk every time (jobs finish while the service runs):
/// <list type="bullet">
/// <item><c>&lt;jobId&gt;</c>: the fine-tuned model of <c>jobs/&lt;jobId&gt;/</c>: the export's merged folder
/// (<c>artifacts/merged</c>) when there is one, else the base model with the trained adapter (<c>train/adapter</c> or
/// <c>artifacts/adapter</c>) applied and merged in memory;</item>
/// <item><c>&lt;jobId&gt;:base</c>: the base model that job trained from (the adapter's <c>base_model_name_or_path</c>);</item>
/// <item><c>models/&lt;folder&gt;</c>: every Hugging Face folder under <c>models/</c>.</item>
/// </list>
/// </summary>
public sealed class ModelCatalog(string dataRoot)
{
    public const string BaseSuffix = ":base";
    public const string ModelsPrefix = "models/";

    public string DataRoot { get; } = Path.GetFullPath(dataRoot);

    public IReadOnlyList<ModelEntry> List()
    {
        var entries = new List<ModelEntry>();
        var jobs = Path.Combine(DataRoot, "jobs");
        if (Directory.Exists(jobs))
            foreach (var folder in Directory.EnumerateDirectories(jobs).Order(StringComparer.Ordinal))
            {
                var id = Path.GetFileName(folder);
                if (!IsName(id)) continue;
                if (FineTuned(id) is { } tuned) entries.Add(tuned);
                if (JobBase(id) is { } based) entries.Add(based);
            }
        var models = Path.Combine(DataRoot, "models");
        if (Directory.Exists(models))
            foreach (var folder in Directory.EnumerateDirectories(models).Order(StringComparer.Ordinal))
                if (IsName(Path.GetFileName(folder)) && IsModelFolder(folder))
                    entries.Add(new ModelEntry(ModelsPrefix + Path.GetFileName(folder), "base", folder, null, null, Created(folder)));
        return entries;
    }

    /// <summary>The entry for an id, or null when no such model is on disk (ids are checked before any path is built).</summary>
    public ModelEntry? Find(string id)
    {
        if (id.StartsWith(ModelsPrefix, StringComparison.Ordinal))
        {
            var name = id[ModelsPrefix.Length..];
            var folder = Path.Combine(DataRoot, "models", name);
            return IsName(name) && IsModelFolder(folder) ? new ModelEntry(id, "base", folder, null, null, Created(folder)) : null;
        }
        if (id.EndsWith(BaseSuffix, StringComparison.Ordinal))
        {
            var job = id[..^BaseSuffix.Length];
            return IsName(job) ? JobBase(job) : null;
        }
        return IsName(id) ? FineTuned(id) : null;
    }

    private ModelEntry? FineTuned(string jobId)
    {
        var job = Path.Combine(DataRoot, "jobs", jobId);
        var merged = Path.Combine(job, "artifacts", "merged");
        if (IsModelFolder(merged)) return new ModelEntry(jobId, "merged", merged, null, jobId, Created(merged));
        if (Adapter(job) is not { } adapter || BaseOf(adapter) is not { } baseFolder) return null;
        return new ModelEntry(jobId, "adapter", baseFolder, adapter, jobId, Created(adapter));
    }

    private ModelEntry? JobBase(string jobId)
    {
        var job = Path.Combine(DataRoot, "jobs", jobId);
        if (Adapter(job) is not { } adapter || BaseOf(adapter) is not { } baseFolder) return null;
        return new ModelEntry(jobId + BaseSuffix, "base", baseFolder, null, jobId, Created(baseFolder));
    }

    private static string? Adapter(string jobFolder) =>
        new[] { Path.Combine(jobFolder, "train", "adapter"), Path.Combine(jobFolder, "artifacts", "adapter") }
            .FirstOrDefault(f => File.Exists(Path.Combine(f, PeftAdapterConfig.FileName)) && File.Exists(Path.Combine(f, PeftAdapterFiles.WeightsFileName)));

    /// <summary>The adapter's base model folder: base_model_name_or_path as an absolute path, or relative to the data root or to models/.</summary>
    private string? BaseOf(string adapter)
    {
        string? name;
        try
        {
            (_, name) = PeftAdapterConfig.Read(Path.Combine(adapter, PeftAdapterConfig.FileName));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or InvalidOperationException or FormatException)
        {
            return null; // listed nowhere; a request for it gets 404 (the file is named in the log of the job that wrote it)
        }
        if (string.IsNullOrEmpty(name)) return null;
        var candidates = Path.IsPathRooted(name)
            ? [name]
            : new[] { Path.Combine(DataRoot, name), Path.Combine(DataRoot, "models", name) };
        return candidates.Select(Path.GetFullPath).FirstOrDefault(IsModelFolder);
    }

    private static bool IsModelFolder(string folder) =>
        File.Exists(Path.Combine(folder, "config.json")) && File.Exists(Path.Combine(folder, "tokenizer.json"));

    /// <summary>Letters, digits, '-', '_' and '.', not starting with '.': nothing that can leave its folder.</summary>
    private static bool IsName(string name) =>
        name is { Length: > 0 and <= 128 } && name[0] != '.' && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    private static DateTimeOffset Created(string path) => new(Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
}
