namespace FineTune.Models;

/// <summary>
/// What differs between the supported decoder families. Adding a family (Gemma: scaled embeddings, 1+w norms,
/// GELU; Phi-3: fused qkv/gate_up weights split at load) means one entry here plus the switches it needs.
/// </summary>
internal sealed record ModelFamily(string Architecture, string ModelType, bool QkvBias, bool TiedByDefault,
    Func<ModelConfig.Reader, int?> SlidingWindow)
{
    public static readonly IReadOnlyList<ModelFamily> All =
    [
        new("LlamaForCausalLM", "llama", QkvBias: false, TiedByDefault: false, SlidingWindow: _ => null),
        new("Qwen2ForCausalLM", "qwen2", QkvBias: true, TiedByDefault: false, SlidingWindow: r =>
            r.BoolOr("use_sliding_window", false)
                ? throw r.Error("use_sliding_window", "Qwen2 per-layer sliding window is not supported; set it to false")
                : null),
        // HF MistralConfig defaults sliding_window to 4096 when the key is absent; an explicit null disables it.
        new("MistralForCausalLM", "mistral", QkvBias: false, TiedByDefault: false, SlidingWindow: r =>
            r.HasKey("sliding_window") ? r.IntOrNull("sliding_window") : 4096),
    ];

    public static string SupportedList => string.Join(", ", All.Select(f => f.Architecture));

    public static ModelFamily For(string architecture, string source) =>
        All.FirstOrDefault(f => f.Architecture == architecture)
        ?? throw new NotSupportedException(
            $"{source}: architecture '{architecture}' is not supported (supported: {SupportedList})");
}
