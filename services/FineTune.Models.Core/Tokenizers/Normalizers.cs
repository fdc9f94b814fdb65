using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The tokenizer.json "normalizer" stage: transforms the text before pre-tokenization, keeping the alignment to the
/// original characters. Implemented: Sequence, Prepend, Replace, NFC/NFD/NFKC/NFKD, Lowercase, Strip, StripAccents and
/// BertNormalizer, with the Rust library's semantics. Precompiled (a SentencePiece charsmap) is refused by name.
/// </summary>
internal abstract class Normalizer
{
    public const string Supported = "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, BertNormalizer";

    public abstract AlignedString Normalize(AlignedString text);

    public string Normalize(string text) => Normalize(AlignedString.Original(text, 0, text.Length)).Text;

    /// <summary>Builds the normalizer at JSON path <paramref name="path"/> of <paramref name="source"/>.</summary>
    public static Normalizer? FromJson(JsonElement json, string source, string path = "normalizer")
    {
        if (json.ValueKind == JsonValueKind.Null || json.ValueKind == JsonValueKind.Undefined) return null;
        var type = Json.Type(json, source, path);
        var where = $"{source}: {path} ({type})";
        return type switch
        {
            "Sequence" => new SequenceNormalizer(Json.Array(json, "normalizers", where)
                .Select((n, i) => FromJson(n, source, $"{path}.normalizers[{i}]")).OfType<Normalizer>().ToArray()),
            "Prepend" => new PrependNormalizer(Json.String(json, "prepend") ?? throw new FormatException($"{where}: \"prepend\" must be a string.")),
            "Replace" => new ReplaceNormalizer(Json.Pattern(Json.Required(json, "pattern", where), where),
                Json.String(json, "content") ?? ""),
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(Json.Bool(json, "strip_left", true), Json.Bool(json, "strip_right", true)),
            "StripAccents" => new CodePointFilter(cp => !IsMark(cp)),
            "BertNormalizer" => BertNormalizer.FromJson(json),
            _ => throw Json.Unsupported(source, path, "normalizer", type, Supported),
        };
    }

    internal static bool IsMark(int cp) => CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.NonSpacingMark
        or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    /// <summary>Rebuilds <paramref name="text"/> code point by code point: <paramref name="map"/> gives each one's replacement (null keeps it).</summary>
    internal static AlignedString MapCodePoints(AlignedString text, Func<int, string?> map)
    {
        var pieces = new List<(string, int, int)>(text.Length);
        var changed = false;
        for (var i = 0; i < text.Length;)
        {
            var n = char.IsHighSurrogate(text.Text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text.Text[i + 1]) ? 2 : 1;
            var replacement = map(n == 2 ? char.ConvertToUtf32(text.Text[i], text.Text[i + 1]) : text.Text[i]);
            changed |= replacement is not null;
            pieces.Add((replacement ?? text.Text.Substring(i, n), i, i + n));
            i += n;
        }
        return changed ? text.Rebuild(pieces) : text;
    }
}

/// <summary>Keeps only the code points <paramref name="keep"/> accepts (StripAccents drops marks).</summary>
internal sealed class CodePointFilter(Func<int, bool> keep) : Normalizer
{
    public override AlignedString Normalize(AlignedString text) => MapCodePoints(text, cp => keep(cp) ? null : "");
}

internal sealed class SequenceNormalizer(Normalizer[] steps) : Normalizer
{
    public override AlignedString Normalize(AlignedString text)
    {
        foreach (var step in steps) text = step.Normalize(text);
        return text;
    }
}

internal sealed class PrependNormalizer(string prepend) : Normalizer
{
    // The reference prepends to every non-empty section, unconditionally.
    public override AlignedString Normalize(AlignedString text) => text.Prepend(prepend);
}

internal sealed class ReplaceNormalizer(SplitPattern pattern, string content) : Normalizer
{
    public override AlignedString Normalize(AlignedString text)
    {
        var matches = pattern.Matches(text.Text);
        if (matches.Count == 0) return text;
        var pieces = new List<(string, int, int)>(matches.Count * 2 + 1);
        var prev = 0;
        foreach (var (index, length) in matches)
        {
            if (index > prev) pieces.Add((text.Text[prev..index], prev, index));
            pieces.Add((content, index, index + length));
            prev = index + length;
        }
        if (prev < text.Length) pieces.Add((text.Text[prev..], prev, text.Length));
        return text.Rebuild(pieces);
    }
}

internal sealed class UnicodeNormalizer(NormalizationForm form) : Normalizer
{
    public override AlignedString Normalize(AlignedString text)
    {
        var whole = UnicodeNormalization.Normalize(text.Text, form);
        if (whole == text.Text) return text;
        // Align per run that starts at a character with no preceding combining sequence; if normalizing run by run does
        // not give the same text as normalizing the whole (composition across runs), align everything to the whole span.
        var pieces = new List<(string, int, int)>();
        var runStart = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i < text.Length && (char.IsLowSurrogate(text.Text[i]) || IsCombining(text.Text, i))) continue;
            pieces.Add((UnicodeNormalization.Normalize(text.Text[runStart..i], form), runStart, i));
            runStart = i;
        }
        if (string.Concat(pieces.Select(p => p.Item1)) != whole)
            return text.Rebuild([(whole, 0, text.Length)]);
        return text.Rebuild(pieces);
    }

    private static bool IsCombining(string s, int i)
    {
        var cat = char.GetUnicodeCategory(s, i);
        return cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark
            or System.Globalization.UnicodeCategory.EnclosingMark;
    }
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override AlignedString Normalize(AlignedString text)
    {
        var pieces = new List<(string, int, int)>(text.Length);
        for (var i = 0; i < text.Length;)
        {
            var n = char.IsHighSurrogate(text.Text[i]) && i + 1 < text.Length ? 2 : 1;
            pieces.Add((UnicodeFullCase.ToLower(text.Text.Substring(i, n), finalSigma: false), i, i + n));   // İ → i̇, as Rust's to_lowercase
            i += n;
        }
        return text.Rebuild(pieces);
    }
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override AlignedString Normalize(AlignedString text) => text.Trim(left, right);
}
