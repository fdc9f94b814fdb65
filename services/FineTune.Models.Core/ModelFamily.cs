namespace FineTune.Models.Core;

/// <summary>
/// What differs between the supported decoder families, as switches that the shared building blocks read (litgpt's
/// "a family is a config", not a class per model). Adding a family means one entry here plus any switch it needs.
/// <list type="bullet">
/// <item>Qwen3: per-head RMSNorm on q and k (<see cref="QkNorm"/>), explicit head_dim.</item>
/// <item>Gemma 3: <see cref="Gemma"/> = embeddings scaled by √hidden, (1+w) norms, post-attention and pre/post
///   feed-forward norms, GeGLU (tanh GELU), query_pre_attn_scalar, per-layer sliding/full attention with two RoPE bases.</item>
/// <item>Phi-3: <see cref="Fused"/> = one qkv_proj and one gate_up_proj Linear (the checkpoint's and PEFT's names).</item>
/// </list>
/// </summary>
internal sealed record ModelFamily(string Architecture, string ModelType)
{
    public bool QkvBias { get; init; }
    public bool TiedByDefault { get; init; }
    public bool QkNorm { get; init; }
    public bool Gemma { get; init; }
    public bool Fused { get; init; }
    public string ActivationKey { get; init; } = "hidden_act";
    public string DefaultActivation { get; init; } = "silu";
    public IReadOnlyList<string> Activations { get; init; } = ["silu", "swish"];

    /// <summary>The sliding window for the layers that have one; null = full attention everywhere.</summary>
    public Func<ModelConfig.Reader, int?> SlidingWindow { get; init; } = _ => null;

    private static int? RejectQwenSlidingWindow(ModelConfig.Reader r, string family) =>
        r.BoolOr("use_sliding_window", false)
            ? throw r.Error("use_sliding_window", $"{family} per-layer sliding window is not supported; set it to false")
            : null;

    public static readonly IReadOnlyList<ModelFamily> All =
    [
        new("LlamaForCausalLM", "llama"),
        new("Qwen2ForCausalLM", "qwen2") { QkvBias = true, SlidingWindow = r => RejectQwenSlidingWindow(r, "Qwen2") },
        // HF MistralConfig defaults sliding_window to 4096 when the key is absent; an explicit null disables it.
        new("MistralForCausalLM", "mistral") { SlidingWindow = r => r.HasKey("sliding_window") ? r.IntOrNull("sliding_window") : 4096 },
        new("Qwen3ForCausalLM", "qwen3") { QkNorm = true, SlidingWindow = r => RejectQwenSlidingWindow(r, "Qwen3") },
        // Gemma3TextConfig: sliding_window defaults to 4096, tie_word_embeddings to true, the activation key is hidden_activation.
        new("Gemma3ForCausalLM", "gemma3_text")
        {
            QkNorm = true, Gemma = true, TiedByDefault = true, ActivationKey = "hidden_activation",
            DefaultActivation = "gelu_pytorch_tanh", Activations = ["gelu_pytorch_tanh"],
            SlidingWindow = r => r.HasKey("sliding_window") ? r.IntOrNull("sliding_window") : 4096,
        },
        // Phi3Config: sliding_window defaults to null.
        new("Phi3ForCausalLM", "phi3") { Fused = true, SlidingWindow = r => r.IntOrNull("sliding_window") },
    ];

    public static string SupportedList => string.Join(", ", All.Select(f => f.Architecture));

    public static ModelFamily For(string architecture, string source) =>
        All.FirstOrDefault(f => f.Architecture == architecture)
        ?? throw new NotSupportedException(
            $"{source}: architecture '{architecture}' is not supported (supported: {SupportedList})");
}
