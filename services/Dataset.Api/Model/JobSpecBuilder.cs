using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FineTune.Contracts.Jobs;
using FineTune.Contracts.Lora;
using FineTune.Contracts.Models;
using FineTune.Data;
using FineTune.Data.Storage;

namespace Dataset.Api.Model;

/// <summary>
/// Turns a POST /api/jobs body (snake_case JSON: dataset, model, eval_split, lora, sft, training, eval, export) into the
/// training job document stored in the job's <c>spec</c> field. The sections are the job document's own sections, so the
/// one validator (<see cref="TrainingJobFile"/>) checks them; every problem is reported under the field it concerns
/// (<c>training.learning_rate</c>, <c>lora.target_modules</c>, ...). Paths in the spec are relative to the data root.
/// </summary>
public static partial class JobSpecBuilder
{
    /// <summary>The embedded default base model (<see cref="GeneratedModel.Default"/>: the preprocess worker writes <c>models/tiny-llama</c> on first use).</summary>
    public const string DefaultModel = "tiny";

    private static readonly HashSet<string> TopLevel = ["dataset", "model", "eval_split", "lora", "sft", "training", "eval", "export"];
    private static readonly string[] Sections = ["lora", "sft", "training", "eval"];
    /// <summary>The export options the trainer forwards to the export worker (ExportRequested's fields; jobId, model, adapter come from the job).</summary>
    private static readonly string[] ExportKeys = ["ggufType", "name", "system", "temperature", "topP", "numCtx", "evalPrompts", "verify", "register"];

    /// <param name="Spec">The training job document (JSON, paths relative to the data root).</param>
    /// <param name="Model">The model as asked ("tiny" or a folder name).</param>
    /// <param name="ModelFolder">The folder name under models/ (what the preprocess worker loads).</param>
    /// <param name="Job">The spec, parsed.</param>
    /// <param name="Export">The export options (JSON object or "true"), or null for no export.</param>
    /// <param name="Generate">The model the preprocess worker generates into <paramref name="ModelFolder"/> when it is not there yet, or null.</param>
    public sealed record Result(string Spec, string Model, string ModelFolder, TrainingJob Job, string? Export, GeneratedModel? Generate = null);

    /// <summary>Builds and validates the spec for dataset <paramref name="datasetId"/>; null and <paramref name="errors"/> filled when invalid.</summary>
    /// <param name="evalDataset">A second dataset whose records are the held-out set (the demo's separately generated split);
    /// null: the dataset's own eval split, or <c>eval_split</c>.</param>
    /// <param name="generated">A generated model the body's <c>model</c> may name by its folder before it exists (the demo's).</param>
    public static Result? Build(JsonObject body, DatasetInfo? dataset, string? datasetId, DataRoot root, Dictionary<string, List<string>> errors,
        DatasetInfo? evalDataset = null, GeneratedModel? generated = null)
    {
        foreach (var (key, _) in body)
            if (!TopLevel.Contains(key)) Add(errors, key, $"unknown field '{key}' (allowed: {string.Join(", ", TopLevel)})");

        if (datasetId is null) Add(errors, "dataset", "is required: a dataset id from POST /api/datasets, or upload a file with the job (multipart)");
        else if (dataset is null) Add(errors, "dataset", $"no dataset '{datasetId}'");

        var modelName = DefaultModel;
        if (body["model"] is { } modelNode)
        {
            if (modelNode.GetValueKind() != JsonValueKind.String) Add(errors, "model", "must be a string: a folder name under the data root's models/, or 'tiny'");
            else modelName = modelNode.GetValue<string>();
        }
        var (modelPath, generate) = ResolveModel(modelName, generated, root, errors);

        var doc = new JsonObject();
        if (modelPath is not null) doc["model"] = modelPath;
        if (dataset is not null) AddData(doc, body, dataset, evalDataset);
        foreach (var section in Sections)
        {
            if (body[section] is not { } node) continue;
            if (node.GetValueKind() != JsonValueKind.Object) { Add(errors, section, "must be an object"); continue; }
            doc[section] = node.DeepClone();
        }
        CheckTargets(body, errors);
        var export = ReadExport(body, errors);

        var spec = doc.ToJsonString();
        TrainingJob? job = null;
        try
        {
            job = TrainingJobFile.Parse(spec, "job"); // the one validator; it needs nothing on disk, so it runs whatever else failed
        }
        catch (TrainingJobException ex)
        {
            AddParseErrors(errors, ex.Message);
        }
        return errors.Count == 0 ? new Result(spec, modelName, Path.GetFileName(modelPath!), job!, export, generate) : null;
    }

    /// <summary>The data paths: the demo's two datasets, the records in order for <c>eval_split</c>, or the dataset's own splits.</summary>
    private static void AddData(JsonObject doc, JsonObject body, DatasetInfo dataset, DatasetInfo? evalDataset)
    {
        var folder = $"datasets/{dataset.Id}/";
        if (evalDataset is not null)
        {
            doc["data"] = folder + DatasetFiles.Train;
            doc["eval_data"] = $"datasets/{evalDataset.Id}/{DatasetFiles.Records}";
        }
        else if (body["eval_split"] is { } split)
        {
            doc["data"] = folder + DatasetFiles.Records;
            doc["eval_split"] = split.DeepClone();
        }
        else
        {
            doc["data"] = folder + DatasetFiles.Train;
            if (dataset.EvalRecords > 0) doc["eval_data"] = folder + DatasetFiles.Eval;
        }
    }

    private static void CheckTargets(JsonObject body, Dictionary<string, List<string>> errors)
    {
        if (body["lora"]?["target_modules"] is not JsonArray targets) return;
        foreach (var t in targets)
        {
            var name = t?.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : t?.ToJsonString();
            if (name != LoraTargets.AllLinear && !LoraTargets.Default.Contains(name))
                Add(errors, "lora.target_modules", $"unknown module '{name}' (the model's linear modules: {string.Join(", ", LoraTargets.Default)}, or all-linear)");
        }
    }

    /// <summary>The export options as the job record keeps them: "true", a JSON object, or null for no export.</summary>
    private static string? ReadExport(JsonObject body, Dictionary<string, List<string>> errors)
    {
        if (body["export"] is JsonObject exportOptions)
            foreach (var (key, _) in exportOptions)
                if (!ExportKeys.Contains(key)) Add(errors, $"export.{key}", $"unknown field (allowed: {string.Join(", ", ExportKeys)}; docs/export.md)");
        if (body["export"] is not { } exportNode) return null;
        return exportNode.GetValueKind() switch
        {
            JsonValueKind.True => "true",
            JsonValueKind.False or JsonValueKind.Null => null,
            JsonValueKind.Object => exportNode.ToJsonString(),
            _ => Invalid(errors, "export", "must be true, false or an object of export options"),
        };
    }

    /// <summary>
    /// "tiny" → models/tiny-llama and <see cref="GeneratedModel.Default"/>; <paramref name="generated"/>'s folder → that folder
    /// and <paramref name="generated"/> (the preprocess worker writes either on first use); another name → models/&lt;name&gt;,
    /// which must hold config.json.
    /// </summary>
    private static (string? Path, GeneratedModel? Generate) ResolveModel(string name, GeneratedModel? generated, DataRoot root,
        Dictionary<string, List<string>> errors)
    {
        if (name == DefaultModel) generated = GeneratedModel.Default;
        else if (generated is not null && name != generated.Folder) generated = null;
        if (generated is not null) return ("models/" + generated.Folder, generated);
        string path;
        try { path = root.Model(name); }
        catch (ArgumentException ex) { Add(errors, "model", ex.Message); return (null, null); }
        if (!File.Exists(Path.Combine(path, "config.json")))
        {
            Add(errors, "model", $"no model '{name}' under the data root's models/ folder (a Hugging Face folder with config.json), or use 'tiny'");
            return (null, null);
        }
        return ("models/" + name, null);
    }

    /// <summary>Maps <see cref="TrainingJobException"/> messages ("job: lora.r must be >= 1 (got 0); ..." or
    /// "job:1:40: unknown field 'x' in section training") onto field names.</summary>
    private static void AddParseErrors(Dictionary<string, List<string>> errors, string message)
    {
        var unknown = UnknownField().Match(message);
        if (unknown.Success)
        {
            var section = unknown.Groups["section"].Success ? unknown.Groups["section"].Value + "." : "";
            Add(errors, section + unknown.Groups["field"].Value, "unknown field");
            return;
        }
        var body = message.StartsWith("job: ", StringComparison.Ordinal) ? message["job: ".Length..] : null;
        if (body is null)
        {
            Add(errors, "body", ValueError().Replace(message, ""));
            return;
        }
        foreach (var error in body.Split("; "))
        {
            var space = error.IndexOf(' ');
            if (space > 0) Add(errors, error[..space], error[(space + 1)..]);
            else Add(errors, "body", error);
        }
    }

    private static string? Invalid(Dictionary<string, List<string>> errors, string field, string message)
    {
        Add(errors, field, message);
        return null;
    }

    private static void Add(Dictionary<string, List<string>> errors, string field, string message)
    {
        if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
        list.Add(message);
    }

    [GeneratedRegex(@"unknown field '(?<field>[^']+)'(?: in section (?<section>\w+))?")]
    private static partial Regex UnknownField();

    [GeneratedRegex(@"^job:\d+:\d+: ")]
    private static partial Regex ValueError();
}
