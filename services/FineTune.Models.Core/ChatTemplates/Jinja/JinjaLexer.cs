using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

// Hand-written Jinja subset for chat templates (no Jinja engine exists for .NET on our feed). The lexer, parser and
// interpreter follow the behaviour of @huggingface/jinja (the engine transformers.js uses), against which
// ChatTemplateParityTests check every template character for character. Reference: docs/tokenizers.md.

internal enum TokenType
{
    Text, NumericLiteral, StringLiteral, Identifier, Equals, OpenParen, CloseParen, OpenStatement, CloseStatement,
    OpenExpression, CloseExpression, OpenSquareBracket, CloseSquareBracket, OpenCurlyBracket, CloseCurlyBracket,
    Comma, Dot, Colon, Pipe, AdditiveBinaryOperator, MultiplicativeBinaryOperator, ExponentiationBinaryOperator,
    ComparisonBinaryOperator, UnaryOperator, Comment,
}

internal sealed record Token(string Value, TokenType Type);

/// <summary>Template source → tokens, with lstrip_blocks and trim_blocks on (as Hugging Face renders chat templates).</summary>
internal static class JinjaLexer
{
    private static readonly (string Text, TokenType Type)[] Operators =
    [
        ("{%", TokenType.OpenStatement), ("%}", TokenType.CloseStatement), ("{{", TokenType.OpenExpression),
        ("}}", TokenType.CloseExpression), ("(", TokenType.OpenParen), (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket), ("}", TokenType.CloseCurlyBracket), ("[", TokenType.OpenSquareBracket),
        ("]", TokenType.CloseSquareBracket), (",", TokenType.Comma), (".", TokenType.Dot), (":", TokenType.Colon),
        ("|", TokenType.Pipe), ("<=", TokenType.ComparisonBinaryOperator), (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator), ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator), (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator), ("-", TokenType.AdditiveBinaryOperator), ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator), ("*", TokenType.MultiplicativeBinaryOperator),
        ("//", TokenType.MultiplicativeBinaryOperator), ("/", TokenType.MultiplicativeBinaryOperator),
        ("%", TokenType.MultiplicativeBinaryOperator), ("=", TokenType.Equals),
    ];

    private static readonly Regex LStripBlocks = new(@"^[ \t]*({[#%-])", RegexOptions.Multiline);
    private static readonly Regex TrimBlocks = new(@"([#%-]})\n");
    private static readonly Regex GenerationTags = new(@"(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)", RegexOptions.Singleline);

    private static string Preprocess(string template)
    {
        if (template.EndsWith('\n')) template = template[..^1];
        template = LStripBlocks.Replace(template, "$1");
        template = TrimBlocks.Replace(template, "$1");
        return GenerationTags.Replace(template, m =>
            (m.Groups[2].Value.Length > 0 ? "" : m.Groups[1].Value) + (m.Groups[3].Value.Length > 0 ? "" : m.Groups[4].Value));
    }

    private static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static bool IsInteger(char c) => c is >= '0' and <= '9';

    // Long on purpose: one character-driven state machine (text vs. {{ }} / {% %} / {# #}, and the curly
    // depth and previous token that decide how a character lexes), shaped like
    // @huggingface/jinja's tokenize. Its local functions share that state; split up, every piece would
    // take the position and depth by ref and the parity with the reference would be harder to check.
    public static List<Token> Tokenize(string source)
    {
        var src = Preprocess(source);
        var tokens = new List<Token>();
        var pos = 0;
        var curlyDepth = 0;
        char At(int i) => i < src.Length ? src[i] : '\0';

        string ConsumeWhile(Func<char, bool> predicate)
        {
            var sb = new StringBuilder();
            while (pos < src.Length && predicate(src[pos]))
            {
                if (src[pos] == '\\')
                {
                    pos++;
                    if (pos >= src.Length) throw new JinjaException("Unexpected end of input");
                    var escaped = src[pos++];
                    if (escaped is 'x' or 'u')
                    {
                        var length = escaped == 'x' ? 2 : 4;
                        var hex = pos + length <= src.Length ? src.Substring(pos, length) : "";
                        if (hex.Length != length || !hex.All(char.IsAsciiHexDigit))
                            throw new JinjaException($"Invalid hexadecimal escape sequence: \\{escaped}{hex}");
                        sb.Append((char)int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        pos += length;
                        continue;
                    }
                    sb.Append(escaped switch
                    {
                        'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', 'v' => '\v',
                        '\'' => '\'', '"' => '"', '\\' => '\\',
                        _ => throw new JinjaException($"Unexpected escaped character: {escaped}"),
                    });
                    continue;
                }
                sb.Append(src[pos++]);
                if (pos >= src.Length) throw new JinjaException("Unexpected end of input");
            }
            return sb.ToString();
        }

        void StripTrailingWhitespace()
        {
            if (tokens.Count > 0 && tokens[^1].Type == TokenType.Text)
            {
                var trimmed = Tokenizers.JsText.TrimEnd(tokens[^1].Value);
                if (trimmed.Length == 0) tokens.RemoveAt(tokens.Count - 1);
                else tokens[^1] = tokens[^1] with { Value = trimmed };
            }
        }

        void SkipLeadingWhitespace()
        {
            while (pos < src.Length && Tokenizers.JsText.IsWhiteSpace(src[pos])) pos++;
        }

        bool StartsWith(string s) => string.CompareOrdinal(src, pos, s, 0, s.Length) == 0 && pos + s.Length <= src.Length;

        while (pos < src.Length)
        {
            var last = tokens.Count > 0 ? tokens[^1].Type : (TokenType?)null;
            if (last is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                var start = pos;
                while (pos < src.Length && !(src[pos] == '{' && At(pos + 1) is '%' or '{' or '#')) pos++;
                if (pos > start)
                {
                    tokens.Add(new Token(src[start..pos], TokenType.Text));
                    continue;
                }
            }

            if (src[pos] == '{' && At(pos + 1) == '#')
            {
                pos += 2;
                var stripBefore = At(pos) == '-';
                if (stripBefore) pos++;
                var start = pos;
                while (At(pos) != '#' || At(pos + 1) != '}')
                {
                    if (pos + 2 >= src.Length) throw new JinjaException("Missing end of comment tag");
                    pos++;
                }
                var comment = src[start..pos];
                var stripAfter = comment.EndsWith('-');
                if (stripAfter) comment = comment[..^1];
                if (stripBefore) StripTrailingWhitespace();
                tokens.Add(new Token(comment, TokenType.Comment));
                pos += 2;
                if (stripAfter) SkipLeadingWhitespace();
                continue;
            }
            if (StartsWith("{%-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{%", TokenType.OpenStatement));
                pos += 3;
                continue;
            }
            if (StartsWith("{{-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{{", TokenType.OpenExpression));
                curlyDepth = 0;
                pos += 3;
                continue;
            }

            ConsumeWhile(Tokenizers.JsText.IsWhiteSpace);
            if (pos >= src.Length) break;
            if (StartsWith("-%}"))
            {
                tokens.Add(new Token("%}", TokenType.CloseStatement));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }
            if (StartsWith("-}}"))
            {
                tokens.Add(new Token("}}", TokenType.CloseExpression));
                pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            var c = src[pos];
            if (c is '-' or '+')
            {
                var lastType = tokens.Count > 0 ? tokens[^1].Type : (TokenType?)null;
                if (lastType is null or TokenType.Text) throw new JinjaException($"Unexpected character: {c}");
                if (lastType is not (TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral
                    or TokenType.CloseParen or TokenType.CloseSquareBracket))
                {
                    pos++;
                    var num = ConsumeWhile(IsInteger);
                    if (num.Length > 0 && At(pos) == '.' && IsInteger(At(pos + 1)))
                    {
                        pos++;
                        num = num + "." + ConsumeWhile(IsInteger);
                    }
                    tokens.Add(new Token(c + num, num.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator));
                    continue;
                }
            }

            var matched = false;
            foreach (var (text, type) in Operators)
            {
                if (text == "}}" && curlyDepth > 0) continue;
                if (!StartsWith(text)) continue;
                tokens.Add(new Token(text, type));
                if (type == TokenType.OpenExpression) curlyDepth = 0;
                else if (type == TokenType.OpenCurlyBracket) curlyDepth++;
                else if (type == TokenType.CloseCurlyBracket) curlyDepth--;
                pos += text.Length;
                matched = true;
                break;
            }
            if (matched) continue;

            if (c is '\'' or '"')
            {
                pos++;
                var str = ConsumeWhile(x => x != c);
                tokens.Add(new Token(str, TokenType.StringLiteral));
                pos++;
                continue;
            }
            if (IsInteger(c))
            {
                var num = ConsumeWhile(IsInteger);
                if ((tokens.Count == 0 || tokens[^1].Type != TokenType.Dot) && At(pos) == '.' && IsInteger(At(pos + 1)))
                {
                    pos++;
                    num = num + "." + ConsumeWhile(IsInteger);
                }
                tokens.Add(new Token(num, TokenType.NumericLiteral));
                continue;
            }
            if (IsWord(c))
            {
                tokens.Add(new Token(ConsumeWhile(IsWord), TokenType.Identifier));
                continue;
            }
            throw new JinjaException($"Unexpected character: {c}");
        }
        return tokens;
    }
}

/// <summary>A template that cannot be parsed or rendered; raise_exception(...) in a template also ends here.</summary>
public sealed class JinjaException(string message) : Exception(message);
