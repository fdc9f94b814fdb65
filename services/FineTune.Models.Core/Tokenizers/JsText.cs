namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// Text helpers that follow ECMAScript semantics, because the reference implementations we must equal
/// (@huggingface/tokenizers, @huggingface/jinja) are JavaScript: whitespace as String.prototype.trim sees it.
/// </summary>
public static class JsText
{
    /// <summary>ECMAScript WhiteSpace + LineTerminator (what \s and trim() match).</summary>
    public static bool IsWhiteSpace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202F' or '\u205F' or '\u3000' or '\uFEFF' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    public static string Trim(string s) => TrimEnd(TrimStart(s));

    public static string TrimStart(string s)
    {
        var i = 0;
        while (i < s.Length && IsWhiteSpace(s[i])) i++;
        return i == 0 ? s : s[i..];
    }

    public static string TrimEnd(string s)
    {
        var i = s.Length;
        while (i > 0 && IsWhiteSpace(s[i - 1])) i--;
        return i == s.Length ? s : s[..i];
    }
}
