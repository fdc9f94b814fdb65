using System.Globalization;

namespace FineTune.Contracts.Models;

/// <summary>
/// A base model the platform generates instead of downloading: the tiny Llama architecture at <see cref="Preset"/>'s size,
/// randomly initialised from <see cref="Seed"/>, with a byte-level BPE tokenizer learnt from <see cref="Corpus"/>
/// (<see cref="BuiltinCorpus"/>, or <see cref="ProductsCorpus"/>: the demo task's training split). The front door names one
/// (model "tiny", the demo job) without writing it; the preprocess worker writes <c>models/&lt;Folder&gt;</c> once, before it
/// loads the tokenizer. On a message it travels as <see cref="ToField"/>: <c>preset/seed/corpus</c>.
/// </summary>
public sealed record GeneratedModel(string Preset, int Seed, string Corpus)
{
    /// <summary>The tiny tokenizer's own built-in corpus.</summary>
    public const string BuiltinCorpus = "builtin";

    /// <summary>The demo task's generated training split (FineTune.Demo), so the task's words are single tokens.</summary>
    public const string ProductsCorpus = "products";

    /// <summary>The tiny model's size presets (FineTune.Models' TinyModelPreset.All; a test keeps the two lists equal).</summary>
    public static readonly IReadOnlyList<string> Presets = ["nano", "tiny", "small", "bench"];

    private static readonly IReadOnlyList<string> Corpora = [BuiltinCorpus, ProductsCorpus];

    /// <summary>The embedded default base model a job gets with model "tiny": <c>models/tiny-llama</c>.</summary>
    public static readonly GeneratedModel Default = new("tiny", 0, BuiltinCorpus);

    /// <summary>The folder under the data root's models/: <c>&lt;preset&gt;-llama</c>, then <c>-products</c> and <c>-s&lt;seed&gt;</c> where they apply.</summary>
    public string Folder => $"{Preset}-llama" + (Corpus == ProductsCorpus ? "-products" : "") + (Seed == 0 ? "" : $"-s{Seed}");

    public string ToField() => string.Create(CultureInfo.InvariantCulture, $"{Preset}/{Seed}/{Corpus}");

    /// <summary>The preset as spelt in <see cref="Presets"/>, or null when there is no such preset.</summary>
    public static string? KnownPreset(string? name) => Presets.FirstOrDefault(p => p.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads <see cref="ToField"/>'s form; a <see cref="FormatException"/> says what is wrong.</summary>
    public static GeneratedModel Parse(string field)
    {
        var parts = field.Split('/');
        if (parts.Length != 3) throw new FormatException($"a generated model is preset/seed/corpus, got '{field}'");
        var preset = KnownPreset(parts[0]) ?? throw new FormatException($"unknown tiny model preset '{parts[0]}' (presets: {string.Join(", ", Presets)})");
        if (!int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
            throw new FormatException($"a generated model's seed must be an integer, got '{parts[1]}'");
        if (!Corpora.Contains(parts[2])) throw new FormatException($"unknown tokenizer corpus '{parts[2]}' ({string.Join(", ", Corpora)})");
        return new GeneratedModel(preset, seed, parts[2]);
    }
}
