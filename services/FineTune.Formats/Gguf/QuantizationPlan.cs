// Which ggml type each tensor gets for a file type. For q4_k_m this follows llama.cpp's llama-quant.cpp recipe
// (llama_tensor_get_type; shared/reference/gguf-ollama.md §2), re-stated here and checked against llama.cpp's own
// llama_model_quantize by tests/FineTune.Export.Tests/LlamaQuantizeParityTests:
// - only ≥2-D tensors named *weight and not *_norm.weight are quantized; the rest stay F32;
// - output.weight (or token_embd.weight when there is no output.weight: tied embeddings) → Q6_K, or Q8_0 when
//   ne[0] % 256 != 0;
// - the attn_v-like tensors (attn_v, the fused attn_qkv of Phi-3, attn_kv_b: llama.cpp's category_is_attn_v, counted
//   together) → Q6_K when use_more_bits(i, n); ffn_down.weight → Q6_K when use_more_bits(layer, n); everything else →
//   Q4_K (llama.cpp's older Q5_K rule for attn_qkv is never reached: the attn_v-like branch comes first);
// - shape fallback when ne[0] is not a multiple of the block: Q4_K→Q5_0, Q6_K→Q8_0, then F16 if still not a multiple;
// - tensors are processed sorted by layer number, then by name (weight_name_comparer); counters follow that order.
// q4_0 uses the same output rule (Q6_K/Q8_0) with Q4_0 elsewhere, as llama-quantize does; f16/bf16/f32/q8_0 are uniform.
namespace FineTune.Formats.Gguf;

/// <summary>A tensor as the planner sees it: GGUF name and ggml dims (fastest first).</summary>
public sealed record PlannedTensor(string Name, long[] Ne);

public static class QuantizationPlan
{
    private const int QkK = 256;

    /// <summary>Orders GGUF tensor names as llama.cpp's weight_name_comparer: by block number (non-block first), then name.</summary>
    public static int CompareWeightNames(string a, string b)
    {
        var la = LayerOf(a);
        var lb = LayerOf(b);
        return la != lb ? la.CompareTo(lb) : string.CompareOrdinal(a, b);
    }

    public static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        var end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), out var n) ? n : -1;
    }

    /// <summary>use_more_bits: the first eighth, the last eighth, and every third layer in between.</summary>
    public static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    /// <summary>Whether llama-quantize would quantize this tensor at all.</summary>
    public static bool IsQuantizable(string name, IReadOnlyList<long> ne) =>
        name.EndsWith("weight", StringComparison.Ordinal) && ne.Count >= 2 && !name.Contains("_norm.weight", StringComparison.Ordinal);

    /// <summary>Returns the tensors sorted in processing order, each with the type it gets.</summary>
    public static IReadOnlyList<(PlannedTensor Tensor, GgmlType Type)> Plan(GgufFileType fileType, IEnumerable<PlannedTensor> tensors)
    {
        var sorted = tensors.OrderBy(t => t.Name, Comparer<string>.Create(CompareWeightNames)).ToList();
        var hasOutput = sorted.Any(t => t.Name == "output.weight");
        var nAttnV = sorted.Count(t => IsAttentionVLike(t.Name));
        var nFfnDown = sorted.Count(t => t.Name.Contains("ffn_down", StringComparison.Ordinal) && t.Name.EndsWith("weight", StringComparison.Ordinal));
        int iAttnV = 0, iFfnDown = 0;
        var result = new List<(PlannedTensor, GgmlType)>(sorted.Count);
        foreach (var t in sorted)
        {
            if (!IsQuantizable(t.Name, t.Ne))
            {
                result.Add((t, GgmlType.F32));
                continue;
            }
            var type = fileType.DefaultType;
            if (fileType.IsQuantized && fileType.DefaultType != GgmlType.Q8_0)
            {
                var isOutput = t.Name == "output.weight" || (!hasOutput && t.Name == "token_embd.weight");
                if (isOutput)
                {
                    type = t.Ne[0] % QkK != 0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
                }
                else if (fileType.FileType == LlamaFileType.MostlyQ4_K_M)
                {
                    if (IsAttentionVLike(t.Name))
                    {
                        if (UseMoreBits(iAttnV, nAttnV)) type = GgmlType.Q6_K;
                        iAttnV++;
                    }
                    else if (t.Name.Contains("ffn_down", StringComparison.Ordinal))
                    {
                        if (UseMoreBits(iFfnDown, nFfnDown)) type = GgmlType.Q6_K;
                        iFfnDown++;
                    }
                }
            }
            result.Add((t, Fallback(t, type)));
        }
        return result;
    }

    /// <summary>llama.cpp's attention-V category: more sensitive to quantization, given more bits in some layers.</summary>
    private static bool IsAttentionVLike(string name) =>
        name.Contains("attn_v.weight", StringComparison.Ordinal) || name.Contains("attn_qkv.weight", StringComparison.Ordinal)
        || name.Contains("attn_kv_b.weight", StringComparison.Ordinal);

    private static GgmlType Fallback(PlannedTensor t, GgmlType type)
    {
        if (t.Ne[0] % GgmlTypeInfo.Of(type).BlockElements == 0) return type;
        var fallback = type switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q6_K => GgmlType.Q8_0,
            GgmlType.Q4_0 or GgmlType.Q8_0 or GgmlType.Q5_0 => GgmlType.F16,
            _ => throw new NotSupportedException($"Tensor '{t.Name}': row length {t.Ne[0]} does not fit {type} and there is no fallback."),
        };
        return t.Ne[0] % GgmlTypeInfo.Of(fallback).BlockElements == 0 ? fallback : GgmlType.F16;
    }
}
