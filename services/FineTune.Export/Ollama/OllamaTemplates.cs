// Ollama TEMPLATE text (Go text/template over .System, .Messages[].Role/.Content) and end-of-turn stops for the chat
// families we fine-tune, written to render the same prompt as each family's Jinja chat template
// (shared/reference/gguf-ollama.md §6). A Modelfile without the right template and stops is the classic
// "talks garbage / never stops" export (finetune.md §4).
namespace FineTune.Export.Ollama;

public sealed record OllamaChatFamily(string Name, string Template, IReadOnlyList<string> Stops);

public static class OllamaTemplates
{
    public static readonly OllamaChatFamily ChatMl = new("chatml",
        "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n",
        ["<|im_start|>", "<|im_end|>"]);

    public static readonly OllamaChatFamily Llama3 = new("llama3",
        "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>\n{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
        ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]);

    /// <summary>Llama 2 chat: the system prompt folds into the first [INST] inside &lt;&lt;SYS&gt;&gt;.</summary>
    public static readonly OllamaChatFamily Llama2 = new("llama2",
        "{{- range $i, $m := .Messages }}{{- if eq $m.Role \"user\" }}[INST] {{ if and $.System (eq $i 0) }}<<SYS>>\n{{ $.System }}\n<</SYS>>\n\n{{ end }}{{ $m.Content }} [/INST]" +
        "{{- else if eq $m.Role \"assistant\" }} {{ $m.Content }}</s><s>{{- end }}{{- end }}",
        ["[INST]", "[/INST]", "<<SYS>>", "<</SYS>>"]);

    /// <summary>Mistral instruct: the system prompt is prepended to the last user turn.</summary>
    public static readonly OllamaChatFamily Mistral = new("mistral",
        "{{- range $i, $m := .Messages }}{{- if eq $m.Role \"user\" }}[INST] {{ if and $.System (eq (len (slice $.Messages $i)) 1) }}{{ $.System }}\n\n{{ end }}{{ $m.Content }}[/INST]" +
        "{{- else if eq $m.Role \"assistant\" }} {{ $m.Content }}</s>{{- end }}{{- end }}",
        ["[INST]", "[/INST]"]);

    /// <summary>Gemma: no system role; it folds into the first user turn. The assistant speaks as "model".</summary>
    public static readonly OllamaChatFamily Gemma = new("gemma",
        "{{- range $i, $m := .Messages }}{{- if eq $m.Role \"user\" }}<start_of_turn>user\n{{ if and $.System (eq $i 0) }}{{ $.System }}\n\n{{ end }}{{ $m.Content }}<end_of_turn>\n" +
        "{{- else if eq $m.Role \"assistant\" }}<start_of_turn>model\n{{ $m.Content }}<end_of_turn>\n{{- end }}{{- end }}<start_of_turn>model\n",
        ["<start_of_turn>", "<end_of_turn>"]);

    public static readonly OllamaChatFamily Phi3 = new("phi3",
        "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n",
        ["<|end|>", "<|user|>", "<|assistant|>", "<|system|>", "<|endoftext|>"]);

    /// <summary>Zephyr / TinyLlama-chat: like Phi-3's role tags, but turns end with &lt;/s&gt;.</summary>
    public static readonly OllamaChatFamily Zephyr = new("zephyr",
        "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}</s>\n{{ end }}<|assistant|>\n",
        ["<|user|>", "<|assistant|>", "<|system|>", "</s>"]);

    public static IReadOnlyList<OllamaChatFamily> All { get; } = [ChatMl, Llama3, Llama2, Mistral, Gemma, Phi3, Zephyr];

    public static OllamaChatFamily ForName(string name) =>
        All.FirstOrDefault(f => f.Name == name.ToLowerInvariant() || (f == ChatMl && name.ToLowerInvariant() is "qwen" or "qwen2"))
        ?? throw new NotSupportedException($"No Ollama template for chat family '{name}'; known: {string.Join(", ", All.Select(f => f.Name))}.");

    /// <summary>Recognises the family from the markers a Jinja chat template emits; null when none matches.</summary>
    public static OllamaChatFamily? Detect(string jinjaTemplate)
    {
        if (jinjaTemplate.Contains("<|im_start|>", StringComparison.Ordinal)) return ChatMl;
        if (jinjaTemplate.Contains("<|start_header_id|>", StringComparison.Ordinal)) return Llama3;
        if (jinjaTemplate.Contains("<start_of_turn>", StringComparison.Ordinal)) return Gemma;
        if (jinjaTemplate.Contains("<|assistant|>", StringComparison.Ordinal) && jinjaTemplate.Contains("<|end|>", StringComparison.Ordinal)) return Phi3;
        if (jinjaTemplate.Contains("<|assistant|>", StringComparison.Ordinal)) return Zephyr;
        if (jinjaTemplate.Contains("<<SYS>>", StringComparison.Ordinal)) return Llama2;
        if (jinjaTemplate.Contains("[INST]", StringComparison.Ordinal)) return Mistral;
        return null;
    }
}
