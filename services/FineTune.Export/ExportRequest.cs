// What to export: a base model folder and optionally a PEFT adapter with its merged model, into an artifacts folder.
using FineTune.Export.Ollama;
using FineTune.Formats.Gguf;

namespace FineTune.Export;

public sealed record ExportRequest
{
    /// <summary>HF base model folder (config.json, tokenizer files, safetensors).</summary>
    public required string BaseModel { get; init; }
    /// <summary>PEFT adapter folder (adapter_config.json + adapter_model.safetensors); null exports the base alone.</summary>
    public string? Adapter { get; init; }
    /// <summary>
    /// The adapter merged into the base (an HF folder as AdapterMerger writes it), the GGUF's source when <see cref="Adapter"/>
    /// is set: the trainer writes jobs/&lt;jobId&gt;/artifacts/merged. Null asks the job's <see cref="AdapterMerge"/> to merge.
    /// </summary>
    public string? Merged { get; init; }
    /// <summary>Artifacts folder (jobs/&lt;jobId&gt;/artifacts): adapter/, merged/, model-&lt;type&gt;.gguf, adapter.gguf, Modelfile, export.json.</summary>
    public required string OutputFolder { get; init; }
    public GgufFileType GgufType { get; init; } = GgufFileType.Q4_K_M;
    /// <summary>Name of the model in Ollama (and general.name).</summary>
    public string ModelName { get; init; } = "finetuned";
    public string? System { get; init; }
    public OllamaParameters Parameters { get; init; } = new();
    /// <summary>Chat family for the Ollama template when the chat template is not recognised.</summary>
    public string? ChatFamily { get; init; }
    public IReadOnlyList<string> EvaluationPrompts { get; init; } = [];
    /// <summary>Run the GGUF (and the adapter on it) through real llama.cpp after writing it.</summary>
    public bool Verify { get; init; }
    /// <summary>Register in Ollama when an endpoint is configured.</summary>
    public bool Register { get; init; } = true;
}
