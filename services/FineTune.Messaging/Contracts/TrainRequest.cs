namespace FineTune.Messaging.Contracts;

/// <summary>
/// A message on <c>ft:train:jobs</c>: train job <see cref="JobId"/>. The job's spec (the training job document, YAML or JSON)
/// is the <c>spec</c> field of <c>ft:job:{jobId}</c>; relative paths in it are relative to the data root.
/// Fields: jobId, plus traceparent/tracestate.
/// </summary>
public sealed record TrainRequest(string JobId)
{
    public IEnumerable<KeyValuePair<string, string>> ToFields()
    {
        yield return new("jobId", JobId);
    }

    public static TrainRequest From(StreamMessage message) => new(message.Required("jobId"));
}
