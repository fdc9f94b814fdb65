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
        var sourceRow = SourceRows(rows, heads);
        if (w.Length != rows * cols) throw new ArgumentException($"Expected {rows}×{cols} values, got {w.Length}.");
        var src = w.ToArray();
        for (var r = 0L; r < rows; r++) src.AsSpan((int)(sourceRow(r) * cols), (int)cols).CopyTo(w[(int)(r * cols)..]);
    }

    /// <summary>For each row of the permuted matrix, the row of the HF matrix it comes from (rows h·hd + 2i + j ← h·hd + j·hd/2 + i).</summary>
    public static Func<long, long> SourceRows(long rows, int heads)
    {
        if (heads <= 0 || rows % heads != 0 || rows / heads % 2 != 0)
            throw new ArgumentException($"Cannot permute {rows} rows into {heads} heads of even size.");
        var hd = rows / heads;
        return r => r / hd * hd + r % hd % 2 * (hd / 2) + r % hd / 2;
    }
}
