// The tokenizer.* metadata of a GGUF, built from a Hugging Face folder (tokenizer.json, tokenizer_config.json,
// generation_config.json; the chat template as FineTune.Models' ChatTemplate resolves it) per shared/reference/gguf-ollama.md §4:
// - byte-level BPE → tokenizer.ggml.model "gpt2" with merges and a pre-tokenizer name recognised from the split regex
//   ("qwen2", "llama-bpe", "gpt-2"); an unknown regex is an error (llama.cpp would throw or tokenize differently);
// - SentencePiece-style BPE (byte_fallback, ▁) → "llama" / "default" with scores (−merge rank of the merge that makes
//   the token, so llama.cpp's score-ordered merging follows the HF merge order) and byte tokens typed BYTE;
// - tokens padded to the embedding rows with "[PAD{i}]" (UNUSED); added special tokens CONTROL, other added tokens
//   USER_DEFINED; special ids, add_bos/add_eos and the chat template.
using System.Text.Json;
using FineTune.Formats.Gguf;

namespace FineTune.Export.Gguf;

public sealed record GgufVocabulary(
    string Model,
    string Pre,
    string[] Tokens,
    float[]? Scores,
    GgufTokenType[] TokenTypes,
    string[]? Merges,
    int? BosId,
    int? EosId,
    int? UnknownId,
    int? PaddingId,
    int? EotId,
    bool AddBos,
    bool AddEos,
    string? ChatTemplate)
{
    // Split regexes of the pre-tokenizers llama.cpp knows, as they appear in tokenizer.json.
    private const string Qwen2Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>End-of-turn markers of the chat families we know; the one the template uses becomes eot_token_id.</summary>
    private static readonly string[] EndOfTurnMarkers = ["<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>"];

    public void WriteTo(GgufWriter w)
    {
        w.AddTokenizerModel(Model);
        w.AddTokenizerPre(Pre);
        w.AddTokenList(Tokens);
        if (Scores is not null) w.AddTokenScores(Scores);
        w.AddTokenTypes(TokenTypes);
        if (Merges is not null) w.AddTokenMerges(Merges);
        if (BosId is { } bos) w.AddBosTokenId((uint)bos);
        if (EosId is { } eos) w.AddEosTokenId((uint)eos);
        if (UnknownId is { } unk) w.AddUnknownTokenId((uint)unk);
        if (PaddingId is { } pad) w.AddPaddingTokenId((uint)pad);
        if (EotId is { } eot) w.AddEotTokenId((uint)eot);
        w.AddAddBosToken(AddBos);
        w.AddAddEosToken(AddEos);
        if (ChatTemplate is not null) w.AddChatTemplate(ChatTemplate);
    }

    /// <summary>Reads the tokenizer of <paramref name="folder"/>; tokens are padded to <paramref name="vocabRows"/> entries.</summary>
    public static GgufVocabulary FromFolder(string folder, int vocabRows, string architecture)
    {
        var tokPath = Path.Combine(folder, "tokenizer.json");
        if (!File.Exists(tokPath)) throw new FileNotFoundException($"{tokPath}: tokenizer.json not found; GGUF export needs the fast tokenizer file.", tokPath);
        using var tokDoc = HfJson.Load(tokPath);
        var root = tokDoc.RootElement;
        var cfgPath = Path.Combine(folder, "tokenizer_config.json");
        using var cfgDoc = HfJson.TryLoad(cfgPath);
        var cfg = cfgDoc?.RootElement ?? default;
        using var genDoc = HfJson.TryLoad(Path.Combine(folder, "generation_config.json"));

        var model = root.Prop("model") ?? throw new InvalidDataException($"{tokPath}: no 'model' section.");
        var type = model.Str("type");
        if (type != "BPE") throw new NotSupportedException($"{tokPath}: tokenizer model type '{type}' is not supported for GGUF export (BPE only).");
        var vocab = model.Prop("vocab") ?? throw new InvalidDataException($"{tokPath}: model.vocab is missing.");
        var (idToToken, tokenToId, special, added) = ReadTokenTable(root, vocab, tokPath);
        var maxId = idToToken.Keys.DefaultIfEmpty(-1).Max();
        if (maxId >= vocabRows)
            throw new InvalidDataException($"{tokPath}: token id {maxId} does not fit the embedding's {vocabRows} rows.");

        var merges = ReadMerges(model, tokPath);
        var isSpm = model.Bool("byte_fallback") == true || JsonContains(root.Prop("decoder"), "ByteFallback") || JsonContains(root.Prop("pre_tokenizer"), "Metaspace");
        var unkToken = model.Str("unk_token");
        var (tokens, types, scores) = TokenArrays(vocabRows, idToToken, special, added, merges, unkToken, isSpm, tokPath);

        int? Id(string? content) => content is not null && tokenToId.TryGetValue(content, out var id) ? id : null;
        var bos = Id(cfg.TokenContent("bos_token"));
        var eos = Id(cfg.TokenContent("eos_token")) ?? GenerationEos(genDoc);
        var pad = Id(cfg.TokenContent("pad_token"));
        var unk = Id(cfg.TokenContent("unk_token")) ?? Id(unkToken);
        var template = Models.Core.ChatTemplates.ChatTemplate.FromFolder(folder).Source;   // the folder's own template, else the family's built-in one
        int? eot = null;
        if (template is not null)
            foreach (var marker in EndOfTurnMarkers)
                if (template.Contains(marker, StringComparison.Ordinal) && Id(marker) is { } m) { eot = m; break; }

        var addBos = cfg.Bool("add_bos_token") ?? PostProcessorAddsBos(root, bos, idToToken) ?? isSpm;
        var addEos = cfg.Bool("add_eos_token") ?? false;

        var pre = isSpm ? "default" : DetectPre(root, architecture, tokPath);
        return new GgufVocabulary(isSpm ? "llama" : "gpt2", pre, tokens, scores, types, isSpm ? null : EncodeMerges(merges),
            bos, eos, unk, pad, eot == eos ? null : eot, addBos, addEos, template);
    }

    /// <summary>model.vocab plus added_tokens (which override it): id ↔ text, and which ids are added or special.</summary>
    private static (Dictionary<int, string> IdToToken, Dictionary<string, int> TokenToId, HashSet<int> Special, HashSet<int> Added)
        ReadTokenTable(JsonElement root, JsonElement vocab, string tokPath)
    {
        var idToToken = new Dictionary<int, string>();
        var tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocab.EnumerateObject())
        {
            var id = p.Value.GetInt32();
            idToToken[id] = p.Name;
            tokenToId[p.Name] = id;
        }
        var special = new HashSet<int>();
        var added = new HashSet<int>();
        if (root.Prop("added_tokens") is { ValueKind: JsonValueKind.Array } addedTokens)
        {
            foreach (var t in addedTokens.EnumerateArray())
            {
                var id = t.RequireInt("id", tokPath);
                var content = t.Str("content") ?? throw new InvalidDataException($"{tokPath}: added token {id} has no content.");
                idToToken[id] = content;
                tokenToId[content] = id;
                added.Add(id);
                if (t.Bool("special") == true) special.Add(id);
            }
        }
        return (idToToken, tokenToId, special, added);
    }

    /// <summary>
    /// tokenizer.ggml.tokens / token_type / scores, one per embedding row ([PADn] for ids the tokenizer lacks). SentencePiece-style
    /// vocabularies also get scores (merge rank, negated) and Unknown/Byte types.
    /// </summary>
    private static (string[] Tokens, GgufTokenType[] Types, float[]? Scores) TokenArrays(int vocabRows, Dictionary<int, string> idToToken,
        HashSet<int> special, HashSet<int> added, List<string> merges, string? unkToken, bool isSpm, string tokPath)
    {
        var tokens = new string[vocabRows];
        var types = new GgufTokenType[vocabRows];
        float[]? scores = isSpm ? new float[vocabRows] : null;
        Dictionary<string, int>? mergeRank = null;
        if (isSpm)
        {
            mergeRank = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var r = 0; r < merges.Count; r++)
            {
                var sp = merges[r].IndexOf(' ', 1);
                mergeRank.TryAdd(merges[r][..sp] + merges[r][(sp + 1)..], r);
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; id < vocabRows; id++)
        {
            if (!idToToken.TryGetValue(id, out var text))
            {
                tokens[id] = $"[PAD{id}]";
                types[id] = GgufTokenType.Unused;
            }
            else
            {
                tokens[id] = text;
                types[id] = special.Contains(id) ? GgufTokenType.Control
                    : added.Contains(id) ? GgufTokenType.UserDefined
                    : isSpm && text == unkToken ? GgufTokenType.Unknown
                    : isSpm && IsByteToken(text) ? GgufTokenType.Byte
                    : GgufTokenType.Normal;
                if (scores is not null && types[id] == GgufTokenType.Normal)
                    scores[id] = mergeRank!.TryGetValue(text, out var rank) ? -rank : -(merges.Count + id);
            }
            if (!seen.Add(tokens[id])) throw new InvalidDataException($"{tokPath}: token '{tokens[id]}' appears twice (id {id}); llama.cpp requires unique token strings.");
        }
        return (tokens, types, scores);
    }

    private static List<string> ReadMerges(JsonElement model, string file)
    {
        var list = new List<string>();
        if (model.Prop("merges") is not { ValueKind: JsonValueKind.Array } merges) return list;
        foreach (var m in merges.EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = m.GetString()!;
                if (s.IndexOf(' ', 1) < 0) throw new InvalidDataException($"{file}: merge '{s}' has no separating space.");
                list.Add(s);
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                list.Add(m[0].GetString() + " " + m[1].GetString());
            else throw new InvalidDataException($"{file}: merge entry {list.Count} is neither \"a b\" nor [a, b].");
        }
        return list;
    }

    /// <summary>GGUF merges are "left right"; a space inside a part is stored as U+0120 (chr(ord(' ')+256)).</summary>
    private static string[] EncodeMerges(List<string> merges) => merges.Select(m =>
    {
        var sp = m.IndexOf(' ', 1);
        return m[..sp].Replace(' ', '\u0120') + " " + m[(sp + 1)..].Replace(' ', '\u0120');
    }).ToArray();

    private static bool IsByteToken(string t) => t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>';

    private static bool JsonContains(JsonElement? e, string typeName) => e is { } v && v.GetRawText().Contains($"\"{typeName}\"", StringComparison.Ordinal);

    private static int? GenerationEos(JsonDocument? gen)
    {
        if (gen?.RootElement.Prop("eos_token_id") is not { } e) return null;
        return e.ValueKind == JsonValueKind.Number ? e.GetInt32() : e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 ? e[0].GetInt32() : null;
    }

    private static bool? PostProcessorAddsBos(JsonElement root, int? bos, Dictionary<int, string> idToToken)
    {
        if (bos is null || root.Prop("post_processor") is not { } pp) return null;
        var raw = pp.GetRawText();
        if (!raw.Contains("TemplateProcessing", StringComparison.Ordinal)) return null;
        // {"single": [{"SpecialToken": {"id": "<s>", ...}}, {"Sequence": ...}]}: bos first means the tokenizer adds it.
        var single = FindProperty(pp, "single");
        if (single is not { ValueKind: JsonValueKind.Array } arr || arr.GetArrayLength() == 0) return null;
        return arr[0].Prop("SpecialToken")?.Str("id") == idToToken[bos.Value];
    }

    private static JsonElement? FindProperty(JsonElement e, string name)
    {
        if (e.ValueKind == JsonValueKind.Object)
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == name) return p.Value;
                if (FindProperty(p.Value, name) is { } found) return found;
            }
        else if (e.ValueKind == JsonValueKind.Array)
            foreach (var item in e.EnumerateArray())
                if (FindProperty(item, name) is { } found) return found;
        return null;
    }

    private static string DetectPre(JsonElement root, string architecture, string file)
    {
        var pre = root.Prop("pre_tokenizer");
        var regexes = new List<string>();
        void Collect(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                if (e.Str("type") == "Split" && e.Prop("pattern")?.Str("Regex") is { } rx) regexes.Add(rx);
                if (e.Str("type") == "ByteLevel" && e.Bool("use_regex") != false) regexes.Add(Gpt2Regex);
                foreach (var p in e.EnumerateObject()) Collect(p.Value);
            }
            else if (e.ValueKind == JsonValueKind.Array)
                foreach (var item in e.EnumerateArray()) Collect(item);
        }
        if (pre is { } p0) Collect(p0);
        if (regexes.Count == 1)
        {
            if (regexes[0] == Qwen2Regex) return "qwen2";
            if (regexes[0] == Llama3Regex) return "llama-bpe";
            if (regexes[0] == Gpt2Regex) return "gpt-2";
        }
        throw new NotSupportedException(
            $"{file}: pre_tokenizer splits with {(regexes.Count == 0 ? "no regex" : string.Join(" + ", regexes.Select(r => $"'{r}'")))}, " +
            $"which matches none of the llama.cpp pre-tokenizers we map (qwen2, llama-bpe, gpt-2) for architecture '{architecture}'. " +
            "Exporting with a guessed pre-tokenizer would make llama.cpp tokenize differently from training.");
    }
}
