namespace FineTune.Data.Storage;

/// <summary>File names inside <c>&lt;DataRoot&gt;/datasets/&lt;id&gt;/</c>. Every file is canonical JSONL (one record per line).</summary>
public static class DatasetFiles
{
    /// <summary>Every record in upload order.</summary>
    public const string Records = "records.jsonl";
    public const string Train = "train.jsonl";
    public const string Eval = "eval.jsonl";
    /// <summary><see cref="DatasetInfo"/> as JSON.</summary>
    public const string Meta = "meta.json";
}
