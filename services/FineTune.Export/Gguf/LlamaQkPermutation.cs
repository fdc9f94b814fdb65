// llama.cpp's llama graph uses RoPE on consecutive pairs (LLAMA_ROPE_TYPE_NORM) while HF Llama rotates the two halves
// of each head, so the converter reorders q_proj/k_proj rows per head (shared/reference/gguf-ollama.md §3):
// out[h·hd + 2i + j] = W[h·hd + j·hd/2 + i] for i < hd/2, j ∈ {0, 1}; H = n_head for q, n_kv_head for k.
// Applied to weights, biases and to LoRA B (whose rows are the output rows); qwen2 (NEOX RoPE) gets none.
namespace FineTune.Export.Gguf;

public static class LlamaQkPermutation
{
    /// <summary>Permutes the rows of a row-major [rows, cols] matrix in place (cols = 1 for a bias).</summary>
    public static void Apply(Span<float> w, long rows, long cols, int heads)
    {
        if (rows % heads != 0 || rows / heads % 2 != 0)
            throw new ArgumentException($"Cannot permute {rows} rows into {heads} heads of even size.");
        if (w.Length != rows * cols) throw new ArgumentException($"Expected {rows}×{cols} values, got {w.Length}.");
        var hd = (int)(rows / heads);
        var src = w.ToArray();
        for (var h = 0; h < heads; h++)
            for (var i = 0; i < hd / 2; i++)
                for (var j = 0; j < 2; j++)
                {
                    var to = (h * hd + 2 * i + j) * cols;
                    var from = (h * hd + j * (hd / 2) + i) * cols;
                    src.AsSpan((int)from, (int)cols).CopyTo(w[(int)to..]);
                }
    }
}
