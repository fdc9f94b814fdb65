using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The tokenizer.json "model": turns one pre-tokenized word into vocabulary ids. BPE (byte-level or SentencePiece-style),
/// WordPiece and Unigram are implemented.
/// </summary>
internal abstract class TokenModel
{
    public const string Supported = "BPE, WordPiece, Unigram";

    /// <summary>One output token of a word: its id and the units [From, To) of the word it covers.</summary>
    public readonly record struct Piece(int Id, int From, int To);

    public abstract Piece[] Encode(string word);

    public abstract IReadOnlyDictionary<string, int> Vocab { get; }

    public abstract int? UnknownId { get; }

    /// <summary>BPE's end_of_word_suffix (decoding turns it into a space); null for other models.</summary>
    public virtual string? EndOfWordSuffix => null;

    /// <summary>Which engine runs the model (what `ft inspect` and the benchmarks print).</summary>
    public abstract string Engine { get; }

    public static TokenModel Create(JsonElement model, string source)
    {
        if (model.ValueKind != JsonValueKind.Object) throw new FormatException($"{source}: model must be an object.");
        var type = Json.String(model, "type") ?? (model.TryGetProperty("merges", out _) ? "BPE"
            : model.TryGetProperty("continuing_subword_prefix", out _) ? "WordPiece" : model.TryGetProperty("unk_id", out _) ? "Unigram" : null);
        return type switch
        {
            "BPE" => BpeModel.FromJson(model, source),
            "WordPiece" => WordPieceModel.FromJson(model, source),
            "Unigram" => UnigramModel.FromJson(model, source),
            _ => throw Json.Unsupported(source, "model", "model", type, Supported),
        };
    }
}
