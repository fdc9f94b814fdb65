using System.Text.Json;
using FineTune.Models.Core.ChatTemplates.Jinja;

namespace FineTune.Models.Core.ChatTemplates;

/// <summary>
/// A model's chat template: the chat_template of tokenizer_config.json (a Jinja template), or the built-in template of
/// the model's family when the folder has none. Rendering equals @huggingface/jinja character for character
/// (ChatTemplateParityTests). Parsed once; Render is thread-safe.
/// </summary>
public sealed class ChatTemplate
{
    private readonly ProgramNode _program;

    /// <summary>The Jinja source.</summary>
    public string Source { get; }

    /// <summary>Hex SHA-256 of <see cref="Source"/> and the special tokens it may reference: identifies the template in shard manifests.</summary>
    public string ContentHash => _contentHash ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes(string.Join('\n', Source, BosToken, EosToken, PadToken, UnkToken))));

    private string? _contentHash;

    /// <summary>The built-in family used (null when the folder's own template is used).</summary>
    public string? BuiltInFamily { get; }

    public string? BosToken { get; }
    public string? EosToken { get; }
    public string? PadToken { get; }
    public string? UnkToken { get; }

    private ChatTemplate(string source, string? builtInFamily, string? bos, string? eos, string? pad, string? unk, string origin)
    {
        Source = source;
        BuiltInFamily = builtInFamily;
        BosToken = bos;
        EosToken = eos;
        PadToken = pad;
        UnkToken = unk;
        try
        {
            _program = JinjaParser.Parse(JinjaLexer.Tokenize(source));
        }
        catch (JinjaException e)
        {
            throw new FormatException($"{origin}: chat template does not parse: {e.Message}", e);
        }
    }

    /// <summary>A template from source text, with the special tokens it may reference.</summary>
    public static ChatTemplate FromString(string template, string? bosToken = null, string? eosToken = null,
        string? padToken = null, string? unkToken = null) =>
        new(template, null, bosToken, eosToken, padToken, unkToken, "template");

    /// <summary>
    /// The folder's template (tokenizer_config.json chat_template; a list of named templates picks "default"), else
    /// the built-in template of <paramref name="family"/> or of the family detected from the folder.
    /// </summary>
    public static ChatTemplate FromFolder(string folder, string? family = null)
    {
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        string? source = null, bos = null, eos = null, pad = null, unk = null;
        if (File.Exists(configPath))
        {
            var config = JsonFile.Read(configPath);
            source = ReadTemplate(config, configPath);
            bos = TokenContent(config, "bos_token");
            eos = TokenContent(config, "eos_token");
            pad = TokenContent(config, "pad_token");
            unk = TokenContent(config, "unk_token");
        }
        var jinjaFile = Path.Combine(folder, "chat_template.jinja");
        if (source is null && File.Exists(jinjaFile)) source = File.ReadAllText(jinjaFile);
        if (source is not null && family is null) return new ChatTemplate(source, null, bos, eos, pad, unk, configPath);
        var chosen = family ?? BuiltInTemplates.DetectFamily(folder);
        return new ChatTemplate(BuiltInTemplates.ForFamily(chosen), chosen, bos, eos, pad, unk, "built-in " + chosen);
    }

    /// <summary>
    /// Renders the conversation. Variables: messages, add_generation_prompt, tools and documents (None unless given in
    /// <paramref name="extra"/>), bos_token/eos_token/pad_token/unk_token when the tokenizer defines them, then
    /// <paramref name="extra"/>. A raise_exception in the template surfaces as <see cref="JinjaException"/>.
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt,
        IReadOnlyDictionary<string, object?>? extra = null) =>
        Render(JinjaValue.From(messages), addGenerationPrompt, extra);

    /// <summary>
    /// As <see cref="Render(IReadOnlyList{ChatMessage}, bool, IReadOnlyDictionary{string, object?}?)"/>, with the messages
    /// exactly as a JSON array holds them, as transformers' apply_chat_template receives dictionaries: content of any
    /// type (a list of parts included), and a missing key undefined rather than None.
    /// </summary>
    public string RenderJson(JsonElement messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extra = null)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new ArgumentException("messages must be a JSON array", nameof(messages));
        return Render(JinjaValue.FromJson(messages), addGenerationPrompt, extra);
    }

    private string Render(JinjaValue messages, bool addGenerationPrompt, IReadOnlyDictionary<string, object?>? extra)
    {
        var variables = new List<KeyValuePair<string, JinjaValue>>
        {
            new("messages", messages),
            new("add_generation_prompt", JinjaValue.Bool(addGenerationPrompt)),
            new("tools", JinjaValue.Null),
            new("documents", JinjaValue.Null),
        };
        if (BosToken is not null) variables.Add(new("bos_token", new StringValue(BosToken)));
        if (EosToken is not null) variables.Add(new("eos_token", new StringValue(EosToken)));
        if (PadToken is not null) variables.Add(new("pad_token", new StringValue(PadToken)));
        if (UnkToken is not null) variables.Add(new("unk_token", new StringValue(UnkToken)));
        if (extra is not null)
            foreach (var (k, v) in extra) variables.Add(new(k, JinjaValue.From(v)));
        return JinjaInterpreter.Render(_program, variables);
    }

    private static string? ReadTemplate(JsonElement config, string path)
    {
        if (!config.TryGetProperty("chat_template", out var t)) return null;
        switch (t.ValueKind)
        {
            case JsonValueKind.String:
                return t.GetString();
            case JsonValueKind.Array:
                foreach (var entry in t.EnumerateArray())
                    if (entry.TryGetProperty("name", out var name) && name.GetString() == "default" && entry.TryGetProperty("template", out var tpl))
                        return tpl.GetString();
                throw new FormatException($"{path}: chat_template is a list without a \"default\" entry.");
            case JsonValueKind.Null:
                return null;
            default:
                throw new FormatException($"{path}: chat_template must be a string or a list of {{name, template}}.");
        }
    }

    private static string? TokenContent(JsonElement config, string name)
    {
        if (!config.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out var c) => c.GetString(),
            _ => null,
        };
    }
}
