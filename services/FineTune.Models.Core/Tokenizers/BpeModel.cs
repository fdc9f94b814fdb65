using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The tokenizer.json "model" of type BPE: vocabulary, ranked merges, optional byte fallback (&lt;0xNN&gt; tokens),
/// unknown token, end_of_word_suffix and ignore_merges. Words are split into code points and the lowest-ranked
/// adjacent pair is merged first (leftmost on ties), as in the reference. Results are cached per word.
/// </summary>
/// <remarks>
/// Byte-level vocabularies run their merges on Microsoft.ML.Tokenizers' BpeTokenizer (verified equal to the reference);
/// the merge loop here serves SentencePiece-style vocabularies, whose byte fallback that library does not offer
/// (docs/tokenizers.md).
/// </remarks>
internal sealed class BpeModel : TokenModel
{
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 200_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<int, int> _singleCodePointSymbol = [];
    private readonly Dictionary<string, int> _symbolOf = new(StringComparer.Ordinal);
    private readonly List<string> _symbolText = [];
    private readonly List<int> _symbolVocabId = [];
    private readonly Dictionary<long, (int Rank, int Result)> _merges = [];
    private readonly int[] _byteFallbackIds;
    private readonly ConcurrentDictionary<string, Piece[]> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// '▁' when no merge produces a token with '▁' after another character (true of SentencePiece vocabularies, whose
    /// pieces start at word boundaries): then no merge can cross the point before such a '▁', and a long word (Llama 2
    /// has no pre-tokenizer, so a whole text is one word) can be encoded, and cached, chunk by chunk with the same result.
    /// </summary>
    private readonly char? _safeSplitBefore;

    /// <summary>
    /// Microsoft.ML.Tokenizers' BpeTokenizer as the merge engine for byte-level vocabularies (all 256 byte characters
    /// present, no byte fallback, no end-of-word suffix): fed one pre-tokenized, byte-mapped word at a time, it gives the
    /// same tokens as the reference (TokenizerParityTests). SentencePiece-style models need byte fallback, which it does
    /// not offer, so they use the merge loop below.
    /// </summary>
    private readonly Microsoft.ML.Tokenizers.BpeTokenizer? _library;

    public override int? UnknownId { get; }
    public bool ByteFallback { get; }
    public override string? EndOfWordSuffix { get; }
    public bool IgnoreMerges { get; }
    public override IReadOnlyDictionary<string, int> Vocab => _vocab;

    /// <summary>Which merge engine runs: Microsoft.ML.Tokenizers for byte-level vocabularies, ours otherwise.</summary>
    public override string Engine => _library is not null ? "Microsoft.ML.Tokenizers BpeTokenizer" : "FineTune BPE (byte fallback)";

    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, string? unkToken,
        bool byteFallback, string? endOfWordSuffix, bool ignoreMerges)
    {
        _vocab = vocab;
        ByteFallback = byteFallback;
        EndOfWordSuffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;
        IgnoreMerges = ignoreMerges;
        if (unkToken is not null && vocab.TryGetValue(unkToken, out var unk)) UnknownId = unk;

        foreach (var (token, id) in vocab) Intern(token);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            var key = Key(Intern(left), Intern(right));
            _merges.TryAdd(key, (rank, Intern(left + right)));
        }
        const char metaspace = '\u2581';
        var safe = EndOfWordSuffix is null;
        foreach (var (left, right) in merges)
        {
            var merged = left + right;
            for (var k = 1; k < merged.Length && safe; k++)
                if (merged[k] == metaspace && merged[k - 1] != metaspace) safe = false;
            if (!safe) break;
        }
        _safeSplitBefore = safe ? metaspace : null;
        var byteLevelVocab = Enumerable.Range(0, 256).All(b => vocab.ContainsKey(ByteLevelAlphabet.Encode((byte)b).ToString()));
        if (byteLevelVocab && !byteFallback && EndOfWordSuffix is null && merges.All(m => !m.Left.Contains(' ') && !m.Right.Contains(' ')))
            _library = Microsoft.ML.Tokenizers.BpeTokenizer.Create(new Microsoft.ML.Tokenizers.BpeOptions(vocab)
            {
                Merges = merges.Select(m => m.Left + " " + m.Right),
                ByteLevel = false,
                PreTokenizer = null,
            });
        _byteFallbackIds = new int[256];
        for (var b = 0; b < 256; b++)
            _byteFallbackIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
    }

    public static BpeModel FromJson(JsonElement model, string source)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var vocabJson = Json.Required(model, "vocab", $"{source}: model");
        if (vocabJson.ValueKind != JsonValueKind.Object) throw new FormatException($"{source}: model.vocab must be an object of token → id.");
        foreach (var p in vocabJson.EnumerateObject())
            vocab[p.Name] = p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var id) && id >= 0 ? id
                : throw new FormatException($"{source}: model.vocab[\"{p.Name}\"] must be a non-negative integer id.");
        var merges = new List<(string, string)>();
        var index = 0;
        foreach (var m in Json.Array(model, "merges", $"{source}: model"))
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                var parts = (m.GetString() ?? "").Split(' ');
                if (parts.Length < 2) throw new FormatException($"{source}: model.merges[{index}] \"{m.GetString()}\" is not a pair \"left right\".");
                merges.Add((parts[0], parts[1]));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!));
            else throw new FormatException($"{source}: model.merges[{index}] must be a string \"left right\" or a pair [left, right].");
            index++;
        }
        return new BpeModel(vocab, merges, Json.String(model, "unk_token"), Json.Bool(model, "byte_fallback", false),
            Json.String(model, "end_of_word_suffix"), Json.Bool(model, "ignore_merges", false));
    }

    /// <summary>Encodes one pre-tokenized word; pieces cover units of <paramref name="word"/>.</summary>
    public override Piece[] Encode(string word)
    {
        if (word.Length == 0) return [];
        if (_safeSplitBefore is char split && word.Length > 1 && word.IndexOf(split, 1) > 0)
        {
            // Chunks start at each '▁' that follows another character.
            List<Piece>? all = null;
            var chunkStart = 0;
            for (var i = 1; i <= word.Length; i++)
            {
                if (i < word.Length && !(word[i] == split && word[i - 1] != split)) continue;
                var pieces = EncodeChunk(word[chunkStart..i]);
                if (chunkStart == 0 && i == word.Length) return pieces;
                all ??= new List<Piece>(word.Length / 2);
                foreach (var p in pieces) all.Add(p with { From = p.From + chunkStart, To = p.To + chunkStart });
                chunkStart = i;
            }
            return [.. all!];
        }
        return EncodeChunk(word);
    }

    private Piece[] EncodeChunk(string word)
    {
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var result = EncodeUncached(word);
        if (word.Length < MaxCachedWordLength)
        {
            if (_cache.Count >= MaxCacheEntries) _cache.Clear();
            _cache.TryAdd(word, result);
        }
        return result;
    }

    private Piece[] EncodeUncached(string word)
    {
        if (IgnoreMerges && EndOfWordSuffix is null && _vocab.TryGetValue(word, out var whole))
            return [new Piece(whole, 0, word.Length)];
        if (_library is not null) return EncodeWithLibrary(_library, word);

        // Symbols, one per code point: symbol id (-1 = not in the symbol table, never merges), unit span.
        var n = 0;
        var sym = new int[word.Length];
        var from = new int[word.Length];
        var to = new int[word.Length];
        for (var i = 0; i < word.Length;)
        {
            var width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var cp = width == 2 ? char.ConvertToUtf32(word[i], word[i + 1]) : word[i];
            sym[n] = _singleCodePointSymbol.TryGetValue(cp, out var s) ? s : -1;
            from[n] = i;
            to[n] = i + width;
            n++;
            i += width;
        }
        string? lastText = null;
        if (EndOfWordSuffix is not null)
        {
            lastText = word[from[n - 1]..] + EndOfWordSuffix;
            sym[n - 1] = _symbolOf.TryGetValue(lastText, out var s) ? s : -1;
        }

        var next = MergeSymbols(sym, to, n);
        return ToPieces(word, sym, from, to, next, n, lastText);
    }

    /// <summary>Applies the merges, lowest rank first, to the symbol sequence in place; returns each surviving symbol's successor (-1 at the end).</summary>
    private int[] MergeSymbols(int[] sym, int[] to, int n)
    {
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (var i = 0; i < n; i++) { next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; alive[i] = true; }

        var queue = new PriorityQueue<(int Left, int LeftSym, int Right, int RightSym), (int Rank, int Pos)>();
        void Consider(int left)
        {
            var right = next[left];
            if (right < 0 || sym[left] < 0 || sym[right] < 0) return;
            if (_merges.TryGetValue(Key(sym[left], sym[right]), out var m))
                queue.Enqueue((left, sym[left], right, sym[right]), (m.Rank, left));
        }
        for (var i = 0; i + 1 < n; i++) Consider(i);

        while (queue.TryDequeue(out var e, out _))
        {
            if (!alive[e.Left] || !alive[e.Right] || next[e.Left] != e.Right || sym[e.Left] != e.LeftSym || sym[e.Right] != e.RightSym)
                continue;
            var merged = _merges[Key(e.LeftSym, e.RightSym)].Result;
            sym[e.Left] = merged;
            to[e.Left] = to[e.Right];
            alive[e.Right] = false;
            next[e.Left] = next[e.Right];
            if (next[e.Right] >= 0) prev[next[e.Right]] = e.Left;
            if (prev[e.Left] >= 0) Consider(prev[e.Left]);
            Consider(e.Left);
        }
        return next;
    }

    /// <summary>The merged symbols as vocabulary ids: a symbol outside the vocabulary becomes its UTF-8 byte tokens where byte fallback is on, else the unknown token.</summary>
    private Piece[] ToPieces(string word, int[] sym, int[] from, int[] to, int[] next, int n, string? lastText)
    {
        var pieces = new List<Piece>(n);
        for (var i = 0; i >= 0 && i < n; i = next[i])
        {
            var vocabId = sym[i] >= 0 ? _symbolVocabId[sym[i]] : -1;
            if (vocabId >= 0)
            {
                pieces.Add(new Piece(vocabId, from[i], to[i]));
                continue;
            }
            var text = sym[i] >= 0 ? _symbolText[sym[i]] : (next[i] < 0 && lastText is not null ? lastText : word[from[i]..to[i]]);
            if (ByteFallback)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                if (bytes.All(b => _byteFallbackIds[b] >= 0))
                {
                    foreach (var b in bytes) pieces.Add(new Piece(_byteFallbackIds[b], from[i], to[i]));
                    continue;
                }
            }
            if (UnknownId is int unk) pieces.Add(new Piece(unk, from[i], to[i]));
        }
        return [.. pieces];
    }

    private static Piece[] EncodeWithLibrary(Microsoft.ML.Tokenizers.Tokenizer library, string word)
    {
        var tokens = library.EncodeToTokens(word, out _, considerPreTokenization: false, considerNormalization: false);
        var result = new Piece[tokens.Count];
        for (var i = 0; i < tokens.Count; i++)
        {
            var (offset, length) = tokens[i].Offset.GetOffsetAndLength(word.Length);
            result[i] = new Piece(tokens[i].Id, offset, offset + length);
        }
        return result;
    }

    private int Intern(string text)
    {
        if (_symbolOf.TryGetValue(text, out var id)) return id;
        id = _symbolText.Count;
        _symbolText.Add(text);
        _symbolVocabId.Add(_vocab.TryGetValue(text, out var v) ? v : -1);
        _symbolOf[text] = id;
        if (text.Length == 1 && !char.IsSurrogate(text[0])) _singleCodePointSymbol[text[0]] = id;
        else if (text.Length == 2 && char.IsSurrogatePair(text[0], text[1])) _singleCodePointSymbol[char.ConvertToUtf32(text[0], text[1])] = id;
        return id;
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
}
