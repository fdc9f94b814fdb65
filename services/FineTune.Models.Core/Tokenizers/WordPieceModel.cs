using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The WordPiece model (BERT family), as the Rust tokenizers library specifies it: greedy longest match from the start
/// of the word, continuations looked up with the continuing_subword_prefix ("##"); a word with any part that matches
/// nothing, or longer than max_input_chars_per_word code points, becomes one unknown token. Hand-written: Microsoft.ML.Tokenizers'
/// WordPiece tokenizer brings its own BERT pre-tokenization and normalization, so it cannot run inside this pipeline.
/// </summary>
internal sealed class WordPieceModel(Dictionary<string, int> vocab, string unkToken, string prefix, int maxInputChars) : TokenModel
{
    public override IReadOnlyDictionary<string, int> Vocab => vocab;

    public override int? UnknownId { get; } = vocab.TryGetValue(unkToken, out var id) ? id : null;

    public override string Engine => "FineTune WordPiece";

    public static WordPieceModel FromJson(JsonElement model, string source)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var v = Json.Required(model, "vocab", $"{source}: model (WordPiece)");
        if (v.ValueKind != JsonValueKind.Object) throw new FormatException($"{source}: model.vocab (WordPiece) must be an object of token → id.");
        foreach (var p in v.EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();
        var unk = Json.String(model, "unk_token") ?? "[UNK]";
        if (!vocab.ContainsKey(unk)) throw new FormatException($"{source}: model.unk_token '{unk}' (WordPiece) is not in the vocabulary.");
        var max = model.TryGetProperty("max_input_chars_per_word", out var m) && m.TryGetInt32(out var n) ? n : 100;
        return new WordPieceModel(vocab, unk, Json.String(model, "continuing_subword_prefix") ?? "##", max);
    }

    public override Piece[] Encode(string word)
    {
        if (word.Length == 0) return [];
        var unknown = new[] { new Piece(UnknownId!.Value, 0, word.Length) };
        if (word.EnumerateRunes().Count() > maxInputChars) return unknown;
        var pieces = new List<Piece>();
        for (var start = 0; start < word.Length;)
        {
            var found = false;
            for (var end = word.Length; end > start; end = PreviousBoundary(word, end))
            {
                var candidate = start > 0 ? prefix + word[start..end] : word[start..end];
                if (!vocab.TryGetValue(candidate, out var id)) continue;
                pieces.Add(new Piece(id, start, end));
                start = end;
                found = true;
                break;
            }
            if (!found) return unknown;
        }
        return [.. pieces];
    }

    private static int PreviousBoundary(string s, int end) =>
        end >= 2 && char.IsLowSurrogate(s[end - 1]) && char.IsHighSurrogate(s[end - 2]) ? end - 2 : end - 1;
}
