// The numbers of rotary position embeddings, from config.json alone (no tensors): inverse frequencies with rope_scaling
// (linear, dynamic, llama3, longrope) applied, and LongRoPE's attention factor and original context. FineTune.Models' Rope
// turns them into cos/sin tables; the GGUF export writes them as llama.cpp's rope keys.
namespace FineTune.Models.Core;

public static class RopeFrequencies
{
    /// <summary>
    /// Inverse frequencies θ_i = base^(-2i/d) for i in [0, d/2), with the config's rope_scaling applied.
    /// <paramref name="sequenceLength"/> matters only to dynamic scaling (it stretches the base beyond the trained context).
    /// </summary>
    /// <param name="local">Gemma 3's sliding-window layers: base rope_local_base_freq, never scaled.</param>
    public static double[] InverseFrequencies(ModelConfig config, long sequenceLength = 0, bool local = false)
    {
        var dim = config.HeadDim;
        var theta = local ? config.RopeLocalTheta ?? config.RopeTheta : config.RopeTheta;
        var scaling = local ? null : config.RopeScaling;
        if (scaling is { Type: "dynamic" } && sequenceLength > config.MaxPositionEmbeddings)
        {
            var f = scaling.Factor;
            theta *= Math.Pow(f * sequenceLength / config.MaxPositionEmbeddings - (f - 1), dim / (dim - 2.0));
        }

        var inv = new double[dim / 2];
        for (var i = 0; i < inv.Length; i++) inv[i] = 1.0 / Math.Pow(theta, 2.0 * i / dim);

        switch (scaling?.Type)
        {
            case "linear":
                for (var i = 0; i < inv.Length; i++) inv[i] /= scaling.Factor;
                break;
            case "llama3":
                ApplyLlama3(inv, scaling);
                break;
            case "longrope":
                var factors = sequenceLength > LongRopeOriginalContext(config) ? scaling.LongFactor! : scaling.ShortFactor!;
                for (var i = 0; i < inv.Length; i++) inv[i] /= factors[i];
                break;
        }
        return inv;
    }

    /// <summary>Whether the frequencies depend on the sequence length (recomputed each forward pass).</summary>
    public static bool DependsOnLength(ModelConfig config) => config.RopeScaling is { Type: "dynamic" or "longrope" };

    /// <summary>The context LongRoPE was trained at: original_max_position_embeddings, else max_position_embeddings.</summary>
    public static int LongRopeOriginalContext(ModelConfig config) =>
        config.OriginalMaxPositionEmbeddings ?? config.RopeScaling?.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;

    /// <summary>
    /// The factor cos and sin are multiplied by: 1 except for LongRoPE, where it is attention_factor, or
    /// √(1 + ln(s) / ln(original)) with s = max_position_embeddings / original context (1 when s ≤ 1), as HF derives it.
    /// </summary>
    public static double AttentionFactor(ModelConfig config)
    {
        if (config.RopeScaling is not { Type: "longrope" } s) return 1;
        if (s.AttentionFactor is { } explicitFactor) return explicitFactor;
        var original = LongRopeOriginalContext(config);
        var factor = config.OriginalMaxPositionEmbeddings is not null ? (double)config.MaxPositionEmbeddings / original : s.Factor;
        return factor <= 1 ? 1 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original));
    }

    // Llama 3.1: long wavelengths (beyond original_context/low_freq_factor) are slowed by `factor`, short ones
    // (below original_context/high_freq_factor) are kept, and the band between is interpolated smoothly.
    private static void ApplyLlama3(double[] inv, RopeScaling s)
    {
        double context = s.OriginalMaxPositionEmbeddings!.Value;
        var lowFreqWavelen = context / s.LowFreqFactor;
        var highFreqWavelen = context / s.HighFreqFactor;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowFreqWavelen)
                inv[i] /= s.Factor;
            else if (wavelen >= highFreqWavelen)
            {
                var smooth = (context / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
            }
        }
    }
}
