namespace FineTune.Messaging.Contracts;

/// <summary>
/// A message on <c>ft:preprocess:ready</c>: the shards of a request exist. Fields: jobId (when the request had one),
/// datasetId, requestId (the request's stream id), hash (output hash = shard folder name), path (absolute shard folder),
/// skipped (true when the shards existed already), manifest (the manifest.json text), plus traceparent/tracestate.
/// </summary>
public sealed record PreprocessReady(string? JobId, string DatasetId, string RequestId, string Hash, string Path, bool Skipped, string Manifest)
{
    public IEnumerable<KeyValuePair<string, string>> ToFields()
    {
        if (JobId is not null) yield return new("jobId", JobId);
        yield return new("datasetId", DatasetId);
        yield return new("requestId", RequestId);
        yield return new("hash", Hash);
        yield return new("path", Path);
        yield return new("skipped", Skipped ? "true" : "false");
        yield return new("manifest", Manifest);
    }

    public static PreprocessReady From(StreamMessage message) => new(
        message.Get("jobId"), message.Required("datasetId"), message.Required("requestId"), message.Required("hash"),
        message.Required("path"), message.Get("skipped") == "true", message.Required("manifest"));
}
