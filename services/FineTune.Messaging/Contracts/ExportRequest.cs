namespace FineTune.Messaging.Contracts;

/// <summary>
/// A message on <c>ft:export:requests</c>: export the trained adapter of job <see cref="JobId"/>.
/// Fields: jobId, model (base model folder), adapter (PEFT adapter folder), output (artifacts folder), plus traceparent/tracestate.
/// </summary>
public sealed record ExportRequest(string JobId, string Model, string Adapter, string Output)
{
    public IEnumerable<KeyValuePair<string, string>> ToFields()
    {
        yield return new("jobId", JobId);
        yield return new("model", Model);
        yield return new("adapter", Adapter);
        yield return new("output", Output);
    }

    public static ExportRequest From(StreamMessage message) => new(
        message.Required("jobId"), message.Required("model"), message.Required("adapter"), message.Required("output"));
}
