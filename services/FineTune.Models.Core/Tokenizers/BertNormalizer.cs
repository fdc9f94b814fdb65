using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// BERT's normalizer, as the Rust tokenizers library defines it, in its order: clean_text (drop NUL, U+FFFD and control
/// characters, turn whitespace into spaces), handle_chinese_chars (spaces around each CJK ideograph), strip_accents
/// (NFD, then drop non-spacing marks; defaults to the value of lowercase) and lowercase.
/// </summary>
internal sealed class BertNormalizer(bool cleanText, bool handleChineseChars, bool stripAccents, bool lowercase) : Normalizer
{
    private static readonly UnicodeNormalizer Nfd = new(NormalizationForm.FormD);

    public static BertNormalizer FromJson(JsonElement json)
    {
        var lowercase = Json.Bool(json, "lowercase", true);
        return new BertNormalizer(Json.Bool(json, "clean_text", true), Json.Bool(json, "handle_chinese_chars", true),
            Json.Bool(json, "strip_accents", lowercase), lowercase);
    }

    public override AlignedString Normalize(AlignedString text)
    {
        if (cleanText)
            text = MapCodePoints(text, cp => cp == 0 || cp == 0xFFFD || IsControl(cp) ? "" : IsBertWhiteSpace(cp) && cp != ' ' ? " " : null);
        if (handleChineseChars)
            text = MapCodePoints(text, cp => IsChineseChar(cp) ? " " + char.ConvertFromUtf32(cp) + " " : null);
        if (stripAccents)
            text = MapCodePoints(Nfd.Normalize(text), cp => CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.NonSpacingMark ? "" : null);
        if (lowercase) text = new LowercaseNormalizer().Normalize(text);
        return text;
    }

    private static bool IsBertWhiteSpace(int cp) =>
        cp is '\t' or '\n' or '\r' or ' ' || CharUnicodeInfo.GetUnicodeCategory(cp) == UnicodeCategory.SpaceSeparator;

    /// <summary>
    /// Rust's is_control: the "other" categories Cc, Cf, Cs and Co, except tab, newline and carriage return. Unassigned
    /// code points (Cn: U+0378, U+FFFE…) stay, and become [UNK], as in both the Rust and the JavaScript library.
    /// </summary>
    private static bool IsControl(int cp) => cp is not ('\t' or '\n' or '\r') && CharUnicodeInfo.GetUnicodeCategory(cp)
        is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse;

    /// <summary>The CJK Unified Ideographs blocks BERT pads with spaces.</summary>
    internal static bool IsChineseChar(int cp) => cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF)
        or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F)
        or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
