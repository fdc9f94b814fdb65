using System.Globalization;
using System.Text.Json;

namespace FineTune.Messaging.Contracts;

/// <summary>
/// A message on <c>ft:export:requests</c> (group <c>exporters</c>): export job <see cref="JobId"/>'s model. Fields (all
/// strings): jobId, model (folder under &lt;DataRoot&gt;/models or an absolute path), adapter (PEFT folder; default
/// &lt;DataRoot&gt;/jobs/&lt;jobId&gt;/artifacts/adapter when it exists), merged (the adapter merged into the base, which
/// the trainer writes; default &lt;output&gt;/merged when it exists; the export worker does not merge), output (artifacts
/// folder; default &lt;DataRoot&gt;/jobs/&lt;jobId&gt;/artifacts), ggufType (f16|bf16|q8_0|q4_0|q4_k_m; default q4_k_m),
/// name (Ollama model name; default ft-&lt;jobId&gt;), system, temperature, topP, numCtx, evalPrompts (JSON array of
/// strings), verify (true|false), register (true|false, default true), plus traceparent/tracestate. docs/export.md.
/// A superset of the trainer's request (jobId, model, adapter, merged, output): both parse here.
/// </summary>
public sealed record ExportRequested
{
    public required string JobId { get; init; }
    public required string Model { get; init; }
    public string? Adapter { get; init; }
    public string? Merged { get; init; }
    public string? Output { get; init; }
    public string GgufType { get; init; } = "q4_k_m";
    public string? Name { get; init; }
    public string? System { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? NumCtx { get; init; }
    public IReadOnlyList<string> EvalPrompts { get; init; } = [];
    public bool Verify { get; init; }
    public bool Register { get; init; } = true;

    public IEnumerable<KeyValuePair<string, string>> ToFields()
    {
        yield return new("jobId", JobId);
        yield return new("model", Model);
        if (Adapter is not null) yield return new("adapter", Adapter);
        if (Merged is not null) yield return new("merged", Merged);
        if (Output is not null) yield return new("output", Output);
        yield return new("ggufType", GgufType);
        if (Name is not null) yield return new("name", Name);
        if (System is not null) yield return new("system", System);
        if (Temperature is { } t) yield return new("temperature", t.ToString(CultureInfo.InvariantCulture));
        if (TopP is { } p) yield return new("topP", p.ToString(CultureInfo.InvariantCulture));
        if (NumCtx is { } n) yield return new("numCtx", n.ToString(CultureInfo.InvariantCulture));
        if (EvalPrompts.Count > 0) yield return new("evalPrompts", JsonSerializer.Serialize(EvalPrompts));
        yield return new("verify", Verify ? "true" : "false");
        yield return new("register", Register ? "true" : "false");
    }

    /// <summary>Reads and validates a request; a bad field is an <see cref="InvalidMessageException"/> (dead-lettered at once).</summary>
    public static ExportRequested From(StreamMessage m)
    {
        InvalidMessageException Bad(string field, string why) => new($"{m.Stream} message {m.Id}: field '{field}' {why}, got '{m.Get(field)}'");
        double? Double(string field) => m.Get(field) is { Length: > 0 } s
            ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0 ? d : throw Bad(field, "must be a non-negative number")
            : null;
        bool Bool(string field, bool fallback) => m.Get(field) switch
        {
            null or "" => fallback,
            "true" or "1" => true,
            "false" or "0" => false,
            _ => throw Bad(field, "must be true or false"),
        };
        IReadOnlyList<string> prompts = [];
        if (m.Get("evalPrompts") is { Length: > 0 } json)
        {
            try { prompts = JsonSerializer.Deserialize<string[]>(json) ?? []; }
            catch (JsonException) { throw Bad("evalPrompts", "must be a JSON array of strings"); }
        }
        var type = m.Get("ggufType") is { Length: > 0 } g ? g.ToLowerInvariant() : "q4_k_m";
        if (type is not ("f32" or "f16" or "bf16" or "q8_0" or "q4_0" or "q4_k_m")) throw Bad("ggufType", "must be one of f32, f16, bf16, q8_0, q4_0, q4_k_m");
        return new ExportRequested
        {
            JobId = m.Required("jobId"),
            Model = m.Required("model"),
            Adapter = m.Get("adapter") is { Length: > 0 } a ? a : null,
            Merged = m.Get("merged") is { Length: > 0 } mf ? mf : null,
            Output = m.Get("output") is { Length: > 0 } o ? o : null,
            GgufType = type,
            Name = m.Get("name") is { Length: > 0 } n ? n : null,
            System = m.Get("system") is { Length: > 0 } s ? s : null,
            Temperature = Double("temperature"),
            TopP = Double("topP"),
            NumCtx = m.Get("numCtx") is { Length: > 0 } c ? int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw Bad("numCtx", "must be a positive integer") : null,
            EvalPrompts = prompts,
            Verify = Bool("verify", false),
            Register = Bool("register", true),
        };
    }
}
