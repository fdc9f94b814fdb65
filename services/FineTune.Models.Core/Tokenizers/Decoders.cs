using System.Text;
using System.Text.Json;

namespace FineTune.Models.Core.Tokenizers;

/// <summary>
/// The tokenizer.json "decoder" stage: turns token strings back into text. Implemented as the reference does:
/// ByteLevel (printable characters → bytes → UTF-8, added tokens kept verbatim), Metaspace, Replace, ByteFallback
/// (&lt;0xNN&gt; runs → UTF-8), Fuse, Strip, BPEDecoder and Sequence. Invalid UTF-8 becomes U+FFFD, as TextDecoder does.
/// </summary>
internal abstract class Decoder
{
    public abstract List<string> DecodeChain(List<string> tokens);

    public string Decode(List<string> tokens) => string.Concat(DecodeChain(tokens));

    public const string Supported = "Sequence, ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, BPEDecoder, WordPiece, CTC";

    /// <summary>Builds the decoder at JSON path <paramref name="path"/> of <paramref name="source"/>.</summary>
    public static Decoder? FromJson(JsonElement json, string source, IReadOnlySet<string> addedTokens, string path = "decoder")
    {
        if (json.ValueKind == JsonValueKind.Null || json.ValueKind == JsonValueKind.Undefined) return null;
        var type = Json.Type(json, source, path);
        var where = $"{source}: {path} ({type})";
        return type switch
        {
            "Sequence" => new SequenceDecoder(Json.Array(json, "decoders", where)
                .Select((d, i) => FromJson(d, source, addedTokens, $"{path}.decoders[{i}]")).OfType<Decoder>().ToArray()),
            "ByteLevel" => new ByteLevelDecoder(addedTokens),
            "Metaspace" => new MetaspaceDecoder(Json.String(json, "replacement") ?? "\u2581",
                (Json.String(json, "prepend_scheme") ?? (Json.Bool(json, "add_prefix_space", true) ? "always" : "never")) != "never"),
            "Replace" => new ReplaceDecoder(Json.Pattern(Json.Required(json, "pattern", where), where), Json.String(json, "content") ?? ""),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(Json.String(json, "content") ?? "",
                json.TryGetProperty("start", out var a) ? a.GetInt32() : 0, json.TryGetProperty("stop", out var b) ? b.GetInt32() : 0),
            "BPEDecoder" => new BpeSuffixDecoder(Json.String(json, "suffix") ?? ""),
            "WordPiece" => new WordPieceDecoder(Json.String(json, "prefix") ?? "##", Json.Bool(json, "cleanup", true)),
            "CTC" => new CtcDecoder(Json.String(json, "pad_token") ?? "<pad>", Json.String(json, "word_delimiter_token") ?? "|",
                Json.Bool(json, "cleanup", true)),
            _ => throw Json.Unsupported(source, path, "decoder", type, Supported),
        };
    }
}

internal sealed class SequenceDecoder(Decoder[] steps) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var step in steps) tokens = step.DecodeChain(tokens);
        return tokens;
    }
}

internal sealed class ByteLevelDecoder(IReadOnlySet<string> addedTokens) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>();
        var bytes = new List<byte>();
        void Flush()
        {
            if (bytes.Count == 0) return;
            output.Add(Encoding.UTF8.GetString([.. bytes]));
            bytes.Clear();
        }
        foreach (var token in tokens)
        {
            if (addedTokens.Contains(token))
            {
                Flush();
                output.Add(token);
                continue;
            }
            foreach (var c in token)
            {
                // The reference maps an unknown character to byte 0 (Uint8Array of undefined).
                bytes.Add(ByteLevelAlphabet.TryDecode(c, out var b) ? b : (byte)0);
            }
        }
        Flush();
        return output;
    }
}

internal sealed class MetaspaceDecoder(string replacement, bool stripFirstSpace) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var s = tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
            if (i == 0 && stripFirstSpace && s.StartsWith(' ')) s = s[1..];
            output.Add(s);
        }
        return output;
    }
}

internal sealed class ReplaceDecoder(SplitPattern pattern, string content) : Decoder
{
    private readonly ReplaceNormalizer _replace = new(pattern, content);

    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(t => _replace.Normalize(t)).ToList();
}

internal sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                continue;
            }
            if (bytes.Count > 0) { output.Add(Encoding.UTF8.GetString([.. bytes])); bytes.Clear(); }
            output.Add(token);
        }
        if (bytes.Count > 0) output.Add(Encoding.UTF8.GetString([.. bytes]));
        return output;
    }
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

internal sealed class StripDecoder(string content, int start, int stop) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(token =>
    {
        var c = content.Length == 1 ? content[0] : '\0';
        var startCut = 0;
        for (var i = 0; i < start && i < token.Length && content.Length == 1 && token[i] == c; i++) startCut = i + 1;
        var stopCut = token.Length;
        for (var i = 0; i < stop; i++)
        {
            var index = token.Length - i - 1;
            if (index < 0 || content.Length != 1 || token[index] != c) break;
            stopCut = index;
        }
        return stopCut > startCut ? token[startCut..stopCut] : "";
    }).ToList();
}

internal sealed class BpeSuffixDecoder(string suffix) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => tokens.Select((t, i) =>
        suffix.Length == 0 ? t : t.Replace(suffix, i == tokens.Count - 1 ? "" : " ", StringComparison.Ordinal)).ToList();
}

/// <summary>WordPiece: "##" continuations are glued to the previous token, other tokens get a space; optional clean-up.</summary>
internal sealed class WordPieceDecoder(string prefix, bool cleanup) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (i > 0) token = token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
            output.Add(cleanup ? CleanUp(token) : token);
        }
        return output;
    }

    /// <summary>The tokenizers library's cleanup of spaces before punctuation and contractions.</summary>
    internal static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal).Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}

/// <summary>CTC: collapse repeated tokens, drop the pad token, word delimiter → space.</summary>
internal sealed class CtcDecoder(string padToken, string wordDelimiter, bool cleanup) : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (i > 0 && tokens[i] == tokens[i - 1]) continue;
            if (tokens[i] == padToken) continue;
            var token = tokens[i].Replace(wordDelimiter, " ", StringComparison.Ordinal);
            output.Add(cleanup ? WordPieceDecoder.CleanUp(token).Replace(wordDelimiter, " ", StringComparison.Ordinal) : token);
        }
        return output;
    }
}
