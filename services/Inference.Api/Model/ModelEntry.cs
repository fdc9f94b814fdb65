namespace Inference.Api.Model;

/// <summary>
/// One servable model: a Hugging Face folder, optionally with a PEFT LoRA adapter applied on load.
/// <see cref="Stamp"/> changes when the files change (a job re-exported), so a cached copy is reloaded.
/// </summary>
/// <param name="Id">The OpenAI model id: <c>&lt;jobId&gt;</c>, <c>&lt;jobId&gt;:base</c> or <c>models/&lt;folder&gt;</c>.</param>
/// <param name="Kind">merged, adapter or base.</param>
public sealed record ModelEntry(string Id, string Kind, string Folder, string? Adapter, string? JobId, DateTimeOffset Created)
{
    public string Stamp => $"{Id}|{Folder}|{Adapter}|{Created.ToUnixTimeMilliseconds()}";
}
