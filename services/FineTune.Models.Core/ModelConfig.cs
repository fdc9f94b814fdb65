using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTune.Models.Core;

/// <summary>
/// A decoder-only model's hyper-parameters, read from a Hugging Face <c>config.json</c>. Property names follow
/// the JSON keys. Attention layouts (n_head query heads, n_kv key/value heads):
/// <code>
///   MHA (n_kv = n_head)     GQA (1 &lt; n_kv &lt; n_head)    MQA (n_kv = 1)
///   q q q q  k k k k        q q q q  k   k              q q q q  k
///   | | | |  | | | |        \ | / |  |   |              \ | | /  |
///   heads pair one-to-one   two q heads share one kv    all q heads share one kv
/// </code>
/// </summary>
public sealed record ModelConfig
{
    // --- identity
    /// <summary>The <c>architectures[0]</c> class name, e.g. "LlamaForCausalLM".</summary>
    public required string Architecture { get; init; }
    public required string ModelType { get; init; }

    // --- sizes
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary>Per-head width; <c>hidden_size / num_attention_heads</c> unless config.json says otherwise.</summary>
    public required int HeadDim { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;

    // --- numerics
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public RopeScaling? RopeScaling { get; init; }
    public string HiddenAct { get; init; } = "silu";

    // --- layout switches
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v/o projections (Llama's <c>attention_bias</c>).</summary>
    public bool AttentionBias { get; init; }
    /// <summary>Bias on q/k/v only (Qwen2 always has it).</summary>
    public bool QkvBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>Keys more than this many positions back are masked (Mistral, Gemma 3's local layers); null = full causal attention.</summary>
    public int? SlidingWindow { get; init; }
    /// <summary>Per layer: true where the sliding window applies (Gemma 3's layer_types); null = every layer when <see cref="SlidingWindow"/> is set.</summary>
    public IReadOnlyList<bool>? SlidingLayers { get; init; }

    // --- family switches (see ModelFamily)
    /// <summary>Per-head RMSNorm on queries and keys before RoPE (Qwen3, Gemma 3: self_attn.q_norm / k_norm).</summary>
    public bool QkNorm { get; init; }
    /// <summary>Gemma: norms scale by (1 + w), embeddings by √hidden, post-attention and pre/post feed-forward norms.</summary>
    public bool Gemma { get; init; }
    /// <summary>Phi-3: fused self_attn.qkv_proj and mlp.gate_up_proj.</summary>
    public bool Fused { get; init; }
    /// <summary>Gemma's query_pre_attn_scalar: scores are scaled by its inverse square root instead of head_dim's.</summary>
    public double? QueryPreAttnScalar { get; init; }
    /// <summary>Gemma 3's rope_local_base_freq: the RoPE base of sliding-window layers (no scaling there).</summary>
    public double? RopeLocalTheta { get; init; }
    /// <summary>Logits become cap·tanh(logits/cap) when set (Gemma's final_logit_softcapping).</summary>
    public double? FinalLogitSoftcapping { get; init; }
    /// <summary>Phi-3's original_max_position_embeddings: the trained context that LongRoPE stretches.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    // --- special tokens
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>The <c>torch_dtype</c> the checkpoint was saved in ("bfloat16", "float32", ...), if stated.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The parsed config.json, kept so a re-save preserves fields this class does not model.</summary>
    public JsonObject? Raw { get; init; }

    public int NumQueryGroups => NumKeyValueHeads;

    /// <summary>Reads <c>{folder}/config.json</c>.</summary>
    /// <exception cref="InvalidDataException">Missing file, bad JSON, a missing or invalid field, or an unsupported architecture; the message names the file and field.</exception>
    public static ModelConfig FromFolder(string folder) => FromFile(Path.Combine(folder, "config.json"));

    public static ModelConfig FromFile(string path)
    {
        path = Path.GetFullPath(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found (not a Hugging Face model folder?)", path);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: config.json is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: config.json is not valid JSON: {e.Message}", e);
        }
        return Parse(root, path);
    }

    public static ModelConfig Parse(JsonObject root, string source)
    {
        var r = new Reader(root, source);
        var architecture = r.Architecture();
        var family = ModelFamily.For(architecture, source);

        var hidden = r.Int("hidden_size");
        var heads = r.Int("num_attention_heads");
        var kvHeads = r.IntOr("num_key_value_heads", heads);
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0)
            throw r.Error("num_key_value_heads", $"num_attention_heads ({heads}) must be a positive multiple of num_key_value_heads ({kvHeads})");
        var headDim = r.IntOr("head_dim", hidden % heads == 0 ? hidden / heads : 0);
        if (headDim <= 0 || headDim % 2 != 0)
            throw r.Error("head_dim", $"head dimension must be a positive even number (hidden_size {hidden} / num_attention_heads {heads})");

        var layers = r.Int("num_hidden_layers");
        var slidingWindow = family.SlidingWindow(r);
        var config = new ModelConfig
        {
            Architecture = architecture,
            ModelType = r.StringOr("model_type", family.ModelType),
            VocabSize = r.Int("vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = r.Int("intermediate_size"),
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            MaxPositionEmbeddings = r.IntOr("max_position_embeddings", 2048),
            RmsNormEps = r.DoubleOr("rms_norm_eps", 1e-6),
            RopeTheta = r.DoubleOr("rope_theta", 10000),
            RopeScaling = RopeScaling.Parse(root["rope_scaling"], source),
            HiddenAct = r.StringOrNull(family.ActivationKey) ?? r.StringOr("hidden_act", family.DefaultActivation),
            TieWordEmbeddings = r.BoolOr("tie_word_embeddings", family.TiedByDefault),
            AttentionBias = r.BoolOr("attention_bias", false),
            QkvBias = family.QkvBias,
            MlpBias = r.BoolOr("mlp_bias", false),
            SlidingWindow = slidingWindow,
            SlidingLayers = family.Gemma && slidingWindow is not null ? GemmaLayerTypes(r, layers) : null,
            QkNorm = family.QkNorm,
            Gemma = family.Gemma,
            Fused = family.Fused,
            QueryPreAttnScalar = family.Gemma ? r.DoubleOr("query_pre_attn_scalar", 256) : null,
            RopeLocalTheta = family.Gemma ? r.DoubleOr("rope_local_base_freq", 10000) : null,
            FinalLogitSoftcapping = r.DoubleOrNull("final_logit_softcapping"),
            OriginalMaxPositionEmbeddings = r.IntOrNull("original_max_position_embeddings"),
            BosTokenId = r.IntOrNull("bos_token_id"),
            EosTokenIds = r.IntList("eos_token_id"),
            PadTokenId = r.IntOrNull("pad_token_id"),
            TorchDtype = r.StringOrNull("torch_dtype") ?? r.StringOrNull("dtype"),
            Raw = root,
        };
        ValidateSupported(config, r, family);
        return config;
    }

    /// <summary>Rejects what the model code does not implement (activations, soft-capping, partial rotary, malformed LongRoPE) and non-positive sizes.</summary>
    private static void ValidateSupported(ModelConfig config, Reader r, ModelFamily family)
    {
        var headDim = config.HeadDim;
        if (!family.Activations.Contains(config.HiddenAct))
            throw r.Error(family.ActivationKey, $"'{config.HiddenAct}' is not supported for {config.Architecture} (supported: {string.Join(", ", family.Activations)})");
        if (r.DoubleOrNull("attn_logit_softcapping") is not null)
            throw r.Error("attn_logit_softcapping", "attention logit soft-capping (Gemma 2) is not supported; Gemma 3 has none");
        if (r.DoubleOr("partial_rotary_factor", 1) != 1)
            throw r.Error("partial_rotary_factor", "partial rotary embeddings are not supported (only 1.0)");
        if (config.RopeScaling is { Type: "longrope" } ls)
            foreach (var (key, list) in new[] { ("short_factor", ls.ShortFactor!), ("long_factor", ls.LongFactor!) })
                if (list.Count != headDim / 2)
                    throw r.Error($"rope_scaling.{key}", $"LongRoPE needs head_dim / 2 = {headDim / 2} factors, found {list.Count}");
        foreach (var (name, value) in new[] { ("vocab_size", config.VocabSize), ("hidden_size", config.HiddenSize),
                     ("intermediate_size", config.IntermediateSize), ("num_hidden_layers", config.NumHiddenLayers) })
            if (value <= 0) throw r.Error(name, "must be positive");
    }

    /// <summary>Whether layer <paramref name="i"/> attends within <see cref="SlidingWindow"/>.</summary>
    public bool IsSlidingLayer(int i) => SlidingWindow is not null && (SlidingLayers is null || SlidingLayers[i]);

    /// <summary>
    /// Gemma 3's per-layer attention: <c>layer_types</c> ("sliding_attention" / "full_attention") when present, else
    /// every <c>sliding_window_pattern</c>-th layer (default 6) is full, as Gemma3TextConfig derives it.
    /// </summary>
    private static IReadOnlyList<bool> GemmaLayerTypes(Reader r, int layers)
    {
        if (r.StringListOrNull("layer_types") is { } types)
        {
            if (types.Count != layers) throw r.Error("layer_types", $"has {types.Count} entries for {layers} layers");
            var sliding = new bool[layers];
            for (var i = 0; i < layers; i++)
                sliding[i] = types[i] switch
                {
                    "sliding_attention" => true,
                    "full_attention" => false,
                    _ => throw r.Error($"layer_types[{i}]", $"'{types[i]}' is not sliding_attention or full_attention"),
                };
            return sliding;
        }
        var pattern = r.IntOr("sliding_window_pattern", 6);
        if (pattern < 1) throw r.Error("sliding_window_pattern", "must be positive");
        return [.. Enumerable.Range(0, layers).Select(i => (i + 1) % pattern != 0)];
    }

    /// <summary>The config as config.json: the original fields, overwritten with this record's values.</summary>
    public JsonObject ToJson()
    {
        var o = Raw?.DeepClone() as JsonObject ?? new JsonObject();
        o["architectures"] = new JsonArray(Architecture);
        o["model_type"] = ModelType;
        o["vocab_size"] = VocabSize;
        o["hidden_size"] = HiddenSize;
        o["intermediate_size"] = IntermediateSize;
        o["num_hidden_layers"] = NumHiddenLayers;
        o["num_attention_heads"] = NumAttentionHeads;
        o["num_key_value_heads"] = NumKeyValueHeads;
        o["head_dim"] = HeadDim;
        o["max_position_embeddings"] = MaxPositionEmbeddings;
        o["rms_norm_eps"] = RmsNormEps;
        o["rope_theta"] = RopeTheta;
        o["rope_scaling"] = RopeScaling?.ToJson();
        o[Gemma ? "hidden_activation" : "hidden_act"] = HiddenAct;
        o["tie_word_embeddings"] = TieWordEmbeddings;
        if (ModelType == "llama")
        {
            o["attention_bias"] = AttentionBias;
            o["mlp_bias"] = MlpBias;
        }
        if (SlidingWindow is { } w) o["sliding_window"] = w;
        if (BosTokenId is { } bos) o["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1) o["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) o["eos_token_id"] = new JsonArray([.. EosTokenIds.Select(i => (JsonNode)i)]);
        if (PadTokenId is { } pad) o["pad_token_id"] = pad;
        if (TorchDtype is not null) o["torch_dtype"] = TorchDtype;
        return o;
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        var json = ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        FineTune.Formats.Safetensors.SafetensorsWriter.AtomicWrite(Path.Combine(folder, "config.json"),
            s => s.Write(System.Text.Encoding.UTF8.GetBytes(json + "\n")));
    }

    /// <summary>Typed access to config.json fields with errors that name the file and field.</summary>
    internal readonly struct Reader(JsonObject root, string source)
    {
        public InvalidDataException Error(string field, string problem) => new($"{source}: field '{field}': {problem}");

        public string Architecture()
        {
            if (root["architectures"] is JsonArray { Count: > 0 } a && a[0] is JsonValue v && v.TryGetValue<string>(out var s))
                return s;
            throw Error("architectures", $"missing; expected e.g. [\"LlamaForCausalLM\"] (supported: {ModelFamily.SupportedList})");
        }

        /// <summary>A node's JSON value, whether it was parsed from text or built in memory.</summary>
        public static JsonElement Element(JsonNode node) => JsonSerializer.SerializeToElement(node);

        public bool HasKey(string field) => root.ContainsKey(field);

        public int Int(string field) => IntOrNull(field) ?? throw Error(field, "missing");

        public int IntOr(string field, int fallback) => IntOrNull(field) ?? fallback;

        public int? IntOrNull(string field)
        {
            var node = root[field];
            if (node is null) return null;
            var e = Element(node);
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var i)) return i;
            if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
            throw Error(field, $"expected an integer, found {node.ToJsonString()}");
        }

        public IReadOnlyList<int> IntList(string field)
        {
            var node = root[field];
            if (node is null) return [];
            if (node is JsonArray a)
            {
                var list = new List<int>();
                for (var i = 0; i < a.Count; i++)
                    list.Add(a[i] is { } n && Element(n) is { ValueKind: JsonValueKind.Number } e && e.TryGetInt32(out var x)
                        ? x
                        : throw Error($"{field}[{i}]", "expected an integer"));
                return list;
            }
            return [IntOrNull(field)!.Value];
        }

        public double DoubleOr(string field, double fallback) => DoubleOrNull(field) ?? fallback;

        public IReadOnlyList<string>? StringListOrNull(string field)
        {
            var node = root[field];
            if (node is null) return null;
            if (node is not JsonArray a) throw Error(field, $"expected a list of strings, found {node.ToJsonString()}");
            var list = new List<string>();
            for (var i = 0; i < a.Count; i++)
                list.Add(a[i] is { } n && Element(n) is { ValueKind: JsonValueKind.String } e
                    ? e.GetString()!
                    : throw Error($"{field}[{i}]", "expected a string"));
            return list;
        }

        public double? DoubleOrNull(string field)
        {
            var node = root[field];
            if (node is null) return null;
            if (Element(node) is { ValueKind: JsonValueKind.Number } e && e.TryGetDouble(out var d) && double.IsFinite(d)) return d;
            throw Error(field, $"expected a number, found {node.ToJsonString()}");
        }

        public bool BoolOr(string field, bool fallback)
        {
            var node = root[field];
            if (node is null) return fallback;
            if (Element(node).ValueKind is JsonValueKind.True or JsonValueKind.False) return Element(node).GetBoolean();
            throw Error(field, $"expected true or false, found {node.ToJsonString()}");
        }

        public string StringOr(string field, string fallback) => StringOrNull(field) ?? fallback;

        public string? StringOrNull(string field)
        {
            var node = root[field];
            if (node is null) return null;
            if (Element(node).ValueKind == JsonValueKind.String) return Element(node).GetString();
            throw Error(field, $"expected a string, found {node.ToJsonString()}");
        }
    }
}
