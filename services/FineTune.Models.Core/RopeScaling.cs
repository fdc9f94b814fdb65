using System.Text.Json.Nodes;

namespace FineTune.Models.Core;

/// <summary>
/// The <c>rope_scaling</c> block of config.json. Supported types: <c>linear</c> (positions divided by factor),
/// <c>dynamic</c> (NTK-aware base stretched once the sequence outgrows the trained context) and <c>llama3</c>
/// (Llama 3.1's per-frequency interpolation between low_freq_factor and high_freq_factor wavelengths) and
/// <c>longrope</c> (Phi-3's LongRoPE, also called <c>su</c>: one divisor per frequency, short_factor within the trained
/// context and long_factor beyond it, and cos/sin scaled by an attention factor).
/// </summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4,
    int? OriginalMaxPositionEmbeddings = null)
{
    public static readonly IReadOnlyList<string> SupportedTypes = ["linear", "dynamic", "llama3", "longrope"];

    /// <summary>LongRoPE: divisors of the inverse frequencies within the trained context (head_dim / 2 of them).</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }

    /// <summary>LongRoPE: divisors beyond the trained context.</summary>
    public IReadOnlyList<double>? LongFactor { get; init; }

    /// <summary>LongRoPE's explicit attention_factor (cos/sin multiplier); null = derived from the context ratio.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>Parses the block; null or type "default" mean no scaling.</summary>
    public static RopeScaling? Parse(JsonNode? node, string source)
    {
        if (node is null) return null;
        if (node is not JsonObject o) throw new InvalidDataException($"{source}: field 'rope_scaling': expected an object or null");
        var typeNode = o["rope_type"] ?? o["type"];
        var type = (typeNode is null ? null : ModelConfig.Reader.Element(typeNode) is { ValueKind: System.Text.Json.JsonValueKind.String } t ? t.GetString() : null)
            ?? throw new InvalidDataException($"{source}: field 'rope_scaling': missing 'rope_type'");
        if (type == "default") return null;
        if (type == "su") type = "longrope";
        if (!SupportedTypes.Contains(type))
            throw new NotSupportedException(
                $"{source}: field 'rope_scaling.rope_type': '{type}' is not supported (supported: default, {string.Join(", ", SupportedTypes)})");

        double Number(string key, double? fallback)
        {
            var n = o[key];
            if (n is null) return fallback ?? throw new InvalidDataException($"{source}: field 'rope_scaling.{key}': missing for rope_type '{type}'");
            return ModelConfig.Reader.Element(n) is { ValueKind: System.Text.Json.JsonValueKind.Number } e && e.TryGetDouble(out var d) && double.IsFinite(d)
                ? d
                : throw new InvalidDataException($"{source}: field 'rope_scaling.{key}': expected a number");
        }

        if (type == "longrope")
            return new RopeScaling(type, Number("factor", 1))
            {
                ShortFactor = Factors(o, "short_factor", source),
                LongFactor = Factors(o, "long_factor", source),
                AttentionFactor = o["attention_factor"] is null ? null : Number("attention_factor", null),
            };
        var factor = Number("factor", null);
        if (factor < 1) throw new InvalidDataException($"{source}: field 'rope_scaling.factor': must be at least 1, found {factor}");
        if (type != "llama3") return new RopeScaling(type, factor);

        var low = Number("low_freq_factor", null);
        var high = Number("high_freq_factor", null);
        if (high <= low) throw new InvalidDataException($"{source}: field 'rope_scaling.high_freq_factor': must exceed low_freq_factor");
        var original = (int)Number("original_max_position_embeddings", null);
        return new RopeScaling(type, factor, low, high, original);
    }

    private static List<double> Factors(JsonObject o, string key, string source)
    {
        if (o[key] is not JsonArray a || a.Count == 0)
            throw new InvalidDataException($"{source}: field 'rope_scaling.{key}': expected a non-empty list of numbers for rope_type 'longrope'");
        return [.. a.Select((n, i) => n is not null && ModelConfig.Reader.Element(n) is { ValueKind: System.Text.Json.JsonValueKind.Number } e && e.GetDouble() > 0
            ? e.GetDouble()
            : throw new InvalidDataException($"{source}: field 'rope_scaling.{key}[{i}]': expected a positive number"))];
    }

    public JsonObject ToJson()
    {
        if (Type == "longrope")
        {
            // Phi3Config's own form (older transformers accept exactly these keys).
            var lr = new JsonObject
            {
                ["type"] = "longrope",
                ["short_factor"] = new JsonArray([.. ShortFactor!.Select(x => (JsonNode)x)]),
                ["long_factor"] = new JsonArray([.. LongFactor!.Select(x => (JsonNode)x)]),
            };
            if (AttentionFactor is { } af) lr["attention_factor"] = af;
            return lr;
        }
        var o = new JsonObject { ["rope_type"] = Type, ["factor"] = Factor };
        if (Type == "llama3")
        {
            o["low_freq_factor"] = LowFreqFactor;
            o["high_freq_factor"] = HighFreqFactor;
            o["original_max_position_embeddings"] = OriginalMaxPositionEmbeddings;
        }
        return o;
    }
}
