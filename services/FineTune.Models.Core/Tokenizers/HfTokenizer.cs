using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>Token ids and, for each, the [Start, End) character span of the input it came from.</summary>
public sealed record TokenEncoding(int[] Ids, (int Start, int End)[] Offsets);

/// <summary>
/// A Hugging Face tokenizer loaded from a model folder's tokenizer.json (+ tokenizer_config.json,
/// generation_config.json, special_tokens_map.json): BPE models, byte-level (GPT-2, Qwen2, Llama 3, Falcon) or
/// SentencePiece-style with ▁ and byte fallback (Llama 2, Mistral, Gemma 3), WordPiece and Unigram models. The pipeline
/// is the Hugging Face tokenizers library's: split out non-normalized added tokens → normalize each section → split out
/// normalized added tokens → pre-tokenize → model → post-process (the template adds BOS/EOS, CLS/SEP). Thread-safe.
/// </summary>
public sealed class HfTokenizer
{
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenModel _model;
    private readonly Decoder? _decoder;
    private readonly AddedTokenSplitter _rawSplitter;
    private readonly AddedTokenSplitter _normalizedSplitter;
    private readonly Dictionary<string, AddedToken> _addedByText = new(StringComparer.Ordinal);
    private readonly HashSet<string> _specialTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<int, string> _idToToken = [];
    private readonly Dictionary<string, int> _tokenToId = new(StringComparer.Ordinal);
    private readonly List<(string? SpecialToken, bool IsSequence)> _template = [];
    private readonly bool _cleanUpSpaces;

    /// <summary>"byte-level BPE" or "SentencePiece-style BPE" (what `ft inspect` prints).</summary>
    public string Kind { get; }
    /// <summary>The BPE merge engine in use (Microsoft.ML.Tokenizers' BpeTokenizer for byte-level models).</summary>
    public string MergeEngine => _model.Engine;

    public int VocabSize { get; }
    public int? BosId { get; }
    public int? EosId { get; }
    public int? PadId { get; }
    public int? UnknownId => _model.UnknownId;

    /// <summary>Every id that ends a turn: eos_token of tokenizer_config plus generation_config's eos_token_id(s).</summary>
    public IReadOnlyList<int> EosIds { get; }

    /// <summary>Added tokens of tokenizer.json, in file order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>SHA-256 (hex) of tokenizer.json and tokenizer_config.json: identifies the tokenizer in caches and shard headers.</summary>
    public string ContentHash { get; }

    /// <summary>The folder's tokenizer_config.json as read (empty object when absent), for chat templates and tooling.</summary>
    public JsonElement Config { get; }

    private HfTokenizer(JsonElement tokenizer, JsonElement config, JsonElement generation, JsonElement specialMap,
        string source, string hash)
    {
        ContentHash = hash;
        Config = config;
        _model = TokenModel.Create(Prop(tokenizer, "model"), source);
        _normalizer = Normalizer.FromJson(Prop(tokenizer, "normalizer"), source);
        _preTokenizer = PreTokenizer.FromJson(Prop(tokenizer, "pre_tokenizer"), source);

        foreach (var (token, id) in _model.Vocab) { _idToToken[id] = token; _tokenToId[token] = id; }

        var added = new List<AddedToken>();
        if (tokenizer.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var a in addedJson.EnumerateArray()) added.Add(AddedToken.FromJson(a, source, index++));
        }
        AddedTokens = added;
        var raw = new List<(string, AddedToken)>();
        var normalized = new List<(string, AddedToken)>();
        foreach (var token in added)
        {
            _idToToken[token.Id] = token.Content;
            _tokenToId[token.Content] = token.Id;
            if (token.Special) _specialTokens.Add(token.Content);
            _addedByText[token.Content] = token;
            if (token.Normalized && _normalizer is not null)
            {
                var content = _normalizer.Normalize(token.Content);
                normalized.Add((content, token));
                _addedByText[content] = token;
            }
            else raw.Add((token.Content, token));
        }
        _rawSplitter = new AddedTokenSplitter(raw);
        _normalizedSplitter = new AddedTokenSplitter(normalized);
        if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("additional_special_tokens", out var extra)
            && extra.ValueKind == JsonValueKind.Array)
            foreach (var t in extra.EnumerateArray())
                if ((t.ValueKind == JsonValueKind.String ? t.GetString() : Json.String(t, "content")) is { } s) _specialTokens.Add(s);

        _decoder = Decoder.FromJson(Prop(tokenizer, "decoder"), source, added.Select(a => a.Content).ToHashSet(StringComparer.Ordinal));
        ReadPostProcessor(Prop(tokenizer, "post_processor"), source);
        _cleanUpSpaces = Json.Bool(config, "clean_up_tokenization_spaces", true);
        VocabSize = _idToToken.Count == 0 ? 0 : _idToToken.Keys.Max() + 1;
        Kind = _model switch
        {
            WordPieceModel => "WordPiece",
            UnigramModel => "Unigram",
            _ => IsByteLevel(tokenizer) ? "byte-level BPE" : "SentencePiece-style BPE",
        };

        BosId = IdOfConfigToken(config, specialMap, "bos_token") ?? GenerationIds(generation, "bos_token_id").Cast<int?>().FirstOrDefault();
        EosId = IdOfConfigToken(config, specialMap, "eos_token") ?? GenerationIds(generation, "eos_token_id").Cast<int?>().FirstOrDefault();
        PadId = IdOfConfigToken(config, specialMap, "pad_token") ?? GenerationIds(generation, "pad_token_id").Cast<int?>().FirstOrDefault();
        var eos = new List<int>();
        if (EosId is int e) eos.Add(e);
        foreach (var id in GenerationIds(generation, "eos_token_id")) if (!eos.Contains(id)) eos.Add(id);
        EosIds = eos;
    }

    /// <summary>Loads the tokenizer of a model folder (tokenizer.json required; the other files when present).</summary>
    public static HfTokenizer FromFolder(string folder)
    {
        var path = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{folder}: no tokenizer.json (only tokenizer.json-based tokenizers are supported; convert a tokenizer.model with the Hugging Face tools first).", path);
        var tokenizerBytes = File.ReadAllBytes(path);
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var configBytes = File.Exists(configPath) ? File.ReadAllBytes(configPath) : [];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(tokenizerBytes);
        sha.AppendData(configBytes);
        var hash = Convert.ToHexStringLower(sha.GetHashAndReset());
        return Build(path, () => new HfTokenizer(Parse(tokenizerBytes, path), configBytes.Length > 0 ? Parse(configBytes, configPath) : EmptyObject(),
            ReadOptional(Path.Combine(folder, "generation_config.json")), ReadOptional(Path.Combine(folder, "special_tokens_map.json")),
            path, hash));
    }

    /// <summary>
    /// Runs the constructor; a JSON value of an unexpected kind that no check of ours names (System.Text.Json's
    /// InvalidOperationException or KeyNotFoundException) becomes a FormatException naming the file, as every other bad input.
    /// </summary>
    private static HfTokenizer Build(string path, Func<HfTokenizer> create)
    {
        try { return create(); }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException && e.Source == typeof(JsonElement).Assembly.GetName().Name)
        {
            throw new FormatException($"{path}: a value has an unexpected JSON type ({e.Message})", e);
        }
    }

    /// <summary>Builds a tokenizer from in-memory JSON (tests, tools).</summary>
    public static HfTokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null, string? generationConfigJson = null)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tokenizerJson + "\n" + tokenizerConfigJson)));
        return Build("tokenizer.json", () => new HfTokenizer(Parse(Encoding.UTF8.GetBytes(tokenizerJson), "tokenizer.json"),
            tokenizerConfigJson is null ? EmptyObject() : Parse(Encoding.UTF8.GetBytes(tokenizerConfigJson), "tokenizer_config.json"),
            generationConfigJson is null ? EmptyObject() : Parse(Encoding.UTF8.GetBytes(generationConfigJson), "generation_config.json"),
            EmptyObject(), "tokenizer.json", hash));
    }

    public int[] Encode(string text, bool addSpecialTokens = true) => EncodeWithOffsets(text, addSpecialTokens).Ids;

    public TokenEncoding EncodeWithOffsets(string text, bool addSpecialTokens = true)
    {
        var body = EncodeText(text);
        var ids = new List<int>(body.Count + 2);
        var offsets = new List<(int, int)>(body.Count + 2);
        if (_template.Count == 0)
        {
            foreach (var (id, s, e) in body) { ids.Add(id); offsets.Add((s, e)); }
        }
        else
        {
            foreach (var (special, isSequence) in _template)
            {
                if (isSequence)
                {
                    foreach (var (id, s, e) in body) { ids.Add(id); offsets.Add((s, e)); }
                }
                else if (addSpecialTokens && special is not null)
                {
                    ids.Add(TokenToId(special) ?? throw new InvalidOperationException($"post_processor special token '{special}' is not in the vocabulary."));
                    offsets.Add((0, 0));
                }
            }
        }
        return new TokenEncoding([.. ids], [.. offsets]);
    }

    private List<(int Id, int Start, int End)> EncodeText(string text)
    {
        var output = new List<(int, int, int)>();
        if (text.Length == 0) return output;
        var sections = _rawSplitter.Split(AlignedString.Original(text, 0, text.Length)).Select(p => p.Text).ToList();
        ApplyStrips(sections);
        for (var sectionIndex = 0; sectionIndex < sections.Count; sectionIndex++)
        {
            var section = sections[sectionIndex];
            if (section.Length == 0) continue;
            if (_addedByText.TryGetValue(section.Text, out var token))
            {
                var (s, e) = section.Span(0, section.Length);
                output.Add((token.Id, s, e));
                continue;
            }
            var normalized = _normalizer is null ? section : _normalizer.Normalize(section);
            if (normalized.Length == 0) continue;
            var subsections = _normalizedSplitter.Split(normalized).Select(p => p.Text).ToList();
            ApplyStrips(subsections);
            foreach (var sub in subsections)
            {
                if (sub.Length == 0) continue;
                if (_addedByText.TryGetValue(sub.Text, out var subToken))
                {
                    var (s, e) = sub.Span(0, sub.Length);
                    output.Add((subToken.Id, s, e));
                    continue;
                }
                var words = new List<AlignedString>();
                if (_preTokenizer is null) words.Add(sub);
                else _preTokenizer.PreTokenize(sub, sectionIndex, words);
                foreach (var word in words)
                    foreach (var piece in _model.Encode(word.Text))
                    {
                        var (s, e) = word.Span(piece.From, piece.To);
                        output.Add((piece.Id, s, e));
                    }
            }
        }
        return output;
    }

    /// <summary>lstrip/rstrip: an added token swallows the whitespace before/after it (the reference trims the neighbours).</summary>
    private void ApplyStrips(List<AlignedString> pieces)
    {
        for (var i = 0; i < pieces.Count; i++)
        {
            if (!_addedByText.TryGetValue(pieces[i].Text, out var token)) continue;
            if (token.LStrip && i > 0) pieces[i - 1] = pieces[i - 1].Trim(left: false, right: true);
            if (token.RStrip && i < pieces.Count - 1) pieces[i + 1] = pieces[i + 1].Trim(left: true, right: false);
        }
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var tokens = new List<string>();
        foreach (var id in ids)
        {
            var token = _idToToken.TryGetValue(id, out var t) ? t
                : (_model.UnknownId is int unk && _idToToken.TryGetValue(unk, out var u) ? u : null);
            if (token is null) continue;
            if (skipSpecialTokens && _specialTokens.Contains(token)) continue;
            tokens.Add(token);
        }
        var text = _decoder is null ? string.Join(' ', tokens) : _decoder.Decode(tokens);
        if (_decoder is not null && _model.EndOfWordSuffix is { } suffix)
        {
            text = text.Replace(suffix, " ", StringComparison.Ordinal);
            if (skipSpecialTokens) text = JsText.Trim(text);
        }
        return _cleanUpSpaces ? CleanUpTokenization(text) : text;
    }

    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => _idToToken.TryGetValue(id, out var t) ? t : null;

    /// <summary>Whether the id is a special token (skipped by Decode with skipSpecialTokens).</summary>
    public bool IsSpecial(int id) => _idToToken.TryGetValue(id, out var t) && _specialTokens.Contains(t);

    private static string CleanUpTokenization(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    private const string SupportedPostProcessors = "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence";

    /// <summary>The single-sequence template of the post-processor: special tokens around the sequence.</summary>
    private void ReadPostProcessor(JsonElement json, string source, string path = "post_processor")
    {
        if (json.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return;
        var type = Json.Type(json, source, path);
        var where = $"{source}: {path} ({type})";
        switch (type)
        {
            case "ByteLevel":
                return;
            case "Sequence":
                var index = 0;
                foreach (var p in Json.Array(json, "processors", where)) ReadPostProcessor(p, source, $"{path}.processors[{index++}]");
                return;
            case "TemplateProcessing":
                _template.Clear();
                foreach (var item in Json.Array(json, "single", where))
                {
                    if (item.TryGetProperty("SpecialToken", out var special)) _template.Add((Json.String(special, "id"), false));
                    else if (item.TryGetProperty("Sequence", out var seq) && Json.String(seq, "id") == "A") _template.Add((null, true));
                }
                return;
            case "BertProcessing" or "RobertaProcessing":
                // Single sequence: cls, the sequence, sep (cls and sep are [token, id] pairs).
                _template.Clear();
                _template.Add((PairToken(json, "cls", where), false));
                _template.Add((null, true));
                _template.Add((PairToken(json, "sep", where), false));
                return;
            default:
                throw Json.Unsupported(source, path, "post_processor", type, SupportedPostProcessors);
        }
    }

    private static string PairToken(JsonElement json, string name, string where)
    {
        var pair = Json.Required(json, name, where);
        if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() < 1 || pair[0].ValueKind != JsonValueKind.String)
            throw new FormatException($"{where}: \"{name}\" must be a pair [token, id].");
        return pair[0].GetString()!;
    }

    private int? IdOfConfigToken(JsonElement config, JsonElement specialMap, string name)
    {
        var content = Json.TokenContent(config, name) ?? Json.TokenContent(specialMap, name);
        return content is null ? null : TokenToId(content);
    }

    private static IEnumerable<int> GenerationIds(JsonElement generation, string name)
    {
        if (generation.ValueKind != JsonValueKind.Object || !generation.TryGetProperty(name, out var v)) yield break;
        if (v.ValueKind == JsonValueKind.Number) yield return v.GetInt32();
        else if (v.ValueKind == JsonValueKind.Array)
            foreach (var x in v.EnumerateArray())
                if (x.ValueKind == JsonValueKind.Number) yield return x.GetInt32();
    }

    private static bool IsByteLevel(JsonElement tokenizer)
    {
        var text = Prop(tokenizer, "pre_tokenizer").ToString() + Prop(tokenizer, "decoder").ToString();
        return text.Contains("\"ByteLevel\"", StringComparison.Ordinal);
    }

    private static JsonElement Prop(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v : default;

    private static JsonElement Parse(byte[] bytes, string path)
    {
        var root = JsonFile.Parse(bytes, path);
        return root.ValueKind == JsonValueKind.Object ? root : throw new FormatException($"{path}: expected a JSON object.");
    }

    private static JsonElement ReadOptional(string path) => File.Exists(path) ? Parse(File.ReadAllBytes(path), path) : EmptyObject();

    private static JsonElement EmptyObject()
    {
        using var doc = JsonDocument.Parse("{}");
        return doc.RootElement.Clone();
    }
}
