using System.Globalization;

namespace FineTune.Messaging.Contracts;

/// <summary>
/// A message on <c>ft:preprocess:requests</c>: tokenize dataset <see cref="DatasetId"/> for model folder
/// <c>&lt;DataRoot&gt;/models/&lt;Model&gt;</c>. Fields (all strings): jobId (optional), datasetId, model, maxLength,
/// overLong (truncate|drop), trainOnInputs (true|false), records (true|false), systemPrompt (optional),
/// generateModel (optional), plus traceparent/tracestate.
/// </summary>
public sealed record PreprocessRequest
{
    public string? JobId { get; init; }
    public required string DatasetId { get; init; }
    public required string Model { get; init; }
    public int MaxLength { get; init; } = 1024;
    /// <summary>"truncate" (keep the first MaxLength tokens) or "drop" (skip the record); both are counted.</summary>
    public string OverLong { get; init; } = "truncate";
    /// <summary>Train on every token (prompt included) instead of assistant turns only.</summary>
    public bool TrainOnInputs { get; init; }
    /// <summary>Tokenize every record in file order into one "records" split instead of the dataset's train and eval splits
    /// (a job that holds out its own eval_split needs the records in order).</summary>
    public bool Records { get; init; }
    /// <summary>System prompt added to records that have none (a job's sft.system_prompt), or null.</summary>
    public string? SystemPrompt { get; init; }
    /// <summary>The model is one the platform generates (FineTune.Contracts' GeneratedModel field, <c>preset/seed/corpus</c>):
    /// the worker writes <c>models/&lt;Model&gt;</c> first when it is not there yet. Null: the folder must exist.</summary>
    public string? GenerateModel { get; init; }

    public IEnumerable<KeyValuePair<string, string>> ToFields()
    {
        if (JobId is not null) yield return new("jobId", JobId);
        yield return new("datasetId", DatasetId);
        yield return new("model", Model);
        yield return new("maxLength", MaxLength.ToString(CultureInfo.InvariantCulture));
        yield return new("overLong", OverLong);
        yield return new("trainOnInputs", TrainOnInputs ? "true" : "false");
        if (Records) yield return new("records", "true");
        if (SystemPrompt is not null) yield return new("systemPrompt", SystemPrompt);
        if (GenerateModel is not null) yield return new("generateModel", GenerateModel);
    }

    /// <summary>Reads and validates a request; a bad field is an <see cref="InvalidMessageException"/> (dead-lettered at once).</summary>
    public static PreprocessRequest From(StreamMessage message)
    {
        var maxLength = message.Get("maxLength") is { } m
            ? int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v is >= 8 and <= 1 << 20 ? v
                : throw new InvalidMessageException($"{message.Stream} message {message.Id}: field 'maxLength' must be an integer in [8, 1048576], got '{m}'")
            : 1024;
        var overLong = message.Get("overLong") ?? "truncate";
        if (overLong is not ("truncate" or "drop"))
            throw new InvalidMessageException($"{message.Stream} message {message.Id}: field 'overLong' must be 'truncate' or 'drop', got '{overLong}'");
        return new PreprocessRequest
        {
            JobId = message.Get("jobId"),
            DatasetId = message.Required("datasetId"),
            Model = message.Required("model"),
            MaxLength = maxLength,
            OverLong = overLong,
            TrainOnInputs = Bool(message, "trainOnInputs"),
            Records = Bool(message, "records"),
            SystemPrompt = message.Get("systemPrompt"),
            GenerateModel = message.Get("generateModel") is { Length: > 0 } generate ? generate : null,
        };
    }

    private static bool Bool(StreamMessage message, string field) => message.Get(field) switch
    {
        null or "" or "false" or "0" => false,
        "true" or "1" => true,
        var other => throw new InvalidMessageException($"{message.Stream} message {message.Id}: field '{field}' must be true or false, got '{other}'"),
    };
}
