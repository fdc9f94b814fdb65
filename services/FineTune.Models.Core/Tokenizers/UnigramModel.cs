using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The Unigram model (SentencePiece unigram), as the Rust tokenizers library specifies it: the segmentation of the word
/// with the highest total log-probability (Viterbi over every vocabulary piece that matches at each code point), an
/// unknown code point scored min_score − 10, consecutive unknowns fused into one unknown token, and with byte_fallback an
/// unknown piece spelled as &lt;0xNN&gt; tokens when all of them exist. Hand-written: no library on our feed reads a
/// tokenizer.json Unigram model.
/// </summary>
internal sealed class UnigramModel : TokenModel
{
    private const double UnknownPenalty = 10.0;

    private sealed class Node
    {
        public readonly Dictionary<char, Node> Children = [];
        public int Id = -1;
    }

    private readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
    private readonly double[] _scores;
    private readonly Node _root = new();
    private readonly double _unknownScore;
    private readonly bool _byteFallback;
    private readonly int[] _byteIds = new int[256];

    public override IReadOnlyDictionary<string, int> Vocab => _vocab;

    public override int? UnknownId { get; }

    public override string Engine => "FineTune Unigram";

    private UnigramModel(List<(string Piece, double Score)> pieces, int? unkId, bool byteFallback)
    {
        _scores = new double[pieces.Count];
        for (var id = 0; id < pieces.Count; id++)
        {
            var (piece, score) = pieces[id];
            _vocab.TryAdd(piece, id);
            _scores[id] = score;
            if (piece.Length == 0) continue;
            var node = _root;
            foreach (var c in piece)
            {
                if (!node.Children.TryGetValue(c, out var child)) node.Children[c] = child = new Node();
                node = child;
            }
            if (node.Id < 0) node.Id = id;
        }
        UnknownId = unkId;
        _unknownScore = (pieces.Count == 0 ? 0 : pieces.Min(p => p.Score)) - UnknownPenalty;
        _byteFallback = byteFallback;
        for (var b = 0; b < 256; b++) _byteIds[b] = _vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
    }

    public static UnigramModel FromJson(JsonElement model, string source)
    {
        var where = $"{source}: model (Unigram)";
        var pieces = new List<(string, double)>();
        var index = 0;
        foreach (var entry in Json.Array(model, "vocab", where))
        {
            if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != 2 || entry[0].ValueKind != JsonValueKind.String)
                throw new FormatException($"{source}: model.vocab[{index}] (Unigram) must be a pair [piece, score].");
            pieces.Add((entry[0].GetString()!, entry[1].GetDouble()));
            index++;
        }
        int? unk = model.TryGetProperty("unk_id", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt32() : null;
        if (unk is int k && (k < 0 || k >= pieces.Count)) throw new FormatException($"{source}: model.unk_id {k} (Unigram) is outside the vocabulary.");
        return new UnigramModel(pieces, unk, Json.Bool(model, "byte_fallback", false));
    }

    public override Piece[] Encode(string word)
    {
        if (word.Length == 0) return [];
        var path = BestPath(word);
        var pieces = new List<Piece>(path.Count);
        foreach (var (id, from, to) in path)
        {
            if (id >= 0)
            {
                pieces.Add(new Piece(id, from, to));
                continue;
            }
            var bytes = Encoding.UTF8.GetBytes(word[from..to]);
            if (_byteFallback && bytes.All(b => _byteIds[b] >= 0))
                foreach (var b in bytes) pieces.Add(new Piece(_byteIds[b], from, to));
            else if (UnknownId is int unk) pieces.Add(new Piece(unk, from, to));
            else throw new InvalidOperationException($"Unigram: '{word[from..to]}' is not in the vocabulary and the model has no unk_id.");
        }
        return [.. pieces];
    }

    /// <summary>Viterbi: the best segmentation as (id or −1 for unknown, from, to), consecutive unknowns fused.</summary>
    private List<(int Id, int From, int To)> BestPath(string word)
    {
        var n = word.Length;
        var best = new double[n + 1];
        var backId = new int[n + 1];
        var backFrom = new int[n + 1];
        Array.Fill(best, double.NegativeInfinity);
        best[0] = 0;
        for (var i = 0; i < n; i++)
        {
            if (double.IsNegativeInfinity(best[i]) || char.IsLowSurrogate(word[i]) && i > 0 && char.IsHighSurrogate(word[i - 1])) continue;
            var width = char.IsHighSurrogate(word[i]) && i + 1 < n && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var hasSingle = false;
            var node = _root;
            for (var j = i; j < n && node.Children.TryGetValue(word[j], out node); j++)
            {
                if (node.Id < 0) continue;
                if (j + 1 - i == width) hasSingle = true;
                Relax(i, j + 1, node.Id, _scores[node.Id]);
            }
            if (!hasSingle) Relax(i, i + width, -1, _unknownScore);
        }
        var path = new List<(int Id, int From, int To)>();
        for (var end = n; end > 0; end = backFrom[end])
        {
            var piece = (backId[end], backFrom[end], end);
            if (piece.Item1 < 0 && path.Count > 0 && path[^1].Id < 0) path[^1] = (-1, piece.Item2, path[^1].To);
            else path.Add(piece);
        }
        path.Reverse();
        return path;

        void Relax(int from, int to, int id, double score)
        {
            var candidate = best[from] + score;
            if (candidate <= best[to]) return;
            best[to] = candidate;
            backId[to] = id;
            backFrom[to] = from;
        }
    }
}
