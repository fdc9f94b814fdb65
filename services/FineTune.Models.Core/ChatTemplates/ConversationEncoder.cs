using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.ChatTemplates;

/// <summary>Token ids of a rendered conversation and, per token, whether it is a training label.</summary>
public sealed record EncodedConversation(int[] InputIds, bool[] LossMask)
{
    public int LabelCount => LossMask.Count(m => m);
}

/// <summary>
/// Renders a conversation with the model's chat template and tokenizes it, marking as labels every assistant turn's
/// content and its end-of-turn token (&lt;|im_end|&gt; for ChatML, &lt;/s&gt; for Llama 2, &lt;|eot_id|&gt; for Llama 3…), or
/// every token with trainOnInputs. The one implementation the preprocess worker and in-process training share.
/// </summary>
/// <remarks>
/// Assistant spans are found in characters, then mapped to tokens through offsets: the turn starts where rendering
/// the conversation before it with add_generation_prompt ends (or, for templates whose prefix differs, where its
/// content appears next), and ends at the first end-of-turn token after that point within the turn's rendered text.
/// A token that straddles a span boundary counts as inside.
/// </remarks>
public sealed class ConversationEncoder
{
    /// <summary>End-of-turn markers of the common chat formats, added to the tokenizer's EOS ids when they are tokens.</summary>
    private static readonly string[] KnownEndOfTurn = ["<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>"];

    private readonly HashSet<int> _endOfTurn;

    public HfTokenizer Tokenizer { get; }
    public ChatTemplate Template { get; }

    /// <summary>Ids that close an assistant turn (labels end there).</summary>
    public IReadOnlySet<int> EndOfTurnIds => _endOfTurn;

    public ConversationEncoder(HfTokenizer tokenizer, ChatTemplate template)
    {
        Tokenizer = tokenizer;
        Template = template;
        _endOfTurn = [.. tokenizer.EosIds];
        foreach (var marker in KnownEndOfTurn)
            if (tokenizer.AddedTokens.FirstOrDefault(t => t.Content == marker) is { } added
                && (template.Source.Contains(marker, StringComparison.Ordinal) || tokenizer.EosIds.Contains(added.Id)))
                _endOfTurn.Add(added.Id);
    }

    /// <summary>The tokenizer and chat template of a model folder.</summary>
    public static ConversationEncoder FromFolder(string folder) =>
        new(HfTokenizer.FromFolder(folder), ChatTemplate.FromFolder(folder));

    public EncodedConversation Encode(IReadOnlyList<ChatMessage> messages, bool trainOnInputs = false)
    {
        if (messages.Count == 0) throw new ArgumentException("A conversation needs at least one message.", nameof(messages));
        var full = Template.Render(messages, addGenerationPrompt: false);
        var encoding = Tokenizer.EncodeWithOffsets(full, addSpecialTokens: false);
        var ids = encoding.Ids;
        var mask = new bool[ids.Length];
        if (trainOnInputs)
        {
            Array.Fill(mask, true);
            return new EncodedConversation(ids, mask);
        }

        var cursor = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role != "assistant") continue;
            var (start, turnEnd) = AssistantSpan(messages, i, full, cursor);
            cursor = turnEnd;
            for (var t = 0; t < ids.Length; t++)
            {
                var (s, e) = encoding.Offsets[t];
                if (e <= start || s >= turnEnd) continue;
                if (e == s && s < start) continue;
                mask[t] = true;
                if (_endOfTurn.Contains(ids[t])) break;
            }
        }
        return new EncodedConversation(ids, mask);
    }

    /// <summary>Token ids of the conversation followed by the assistant generation prompt (for generation).</summary>
    public int[] EncodePrompt(IReadOnlyList<ChatMessage> messages) =>
        Tokenizer.Encode(Template.Render(messages, addGenerationPrompt: true), addSpecialTokens: false);

    /// <summary>[start, end) characters of assistant message <paramref name="index"/> in the rendered conversation.</summary>
    private (int Start, int End) AssistantSpan(IReadOnlyList<ChatMessage> messages, int index, string full, int cursor)
    {
        var before = messages.Take(index).ToList();
        var through = messages.Take(index + 1).ToList();
        var content = messages[index].Content ?? "";

        var end = -1;
        if (TryRender(through, false) is { } upTo && full.StartsWith(upTo, StringComparison.Ordinal)) end = upTo.Length;

        var start = -1;
        if (before.Count > 0 && TryRender(before, true) is { } prompt && full.StartsWith(prompt, StringComparison.Ordinal)
            && prompt.Length >= cursor && (end < 0 || prompt.Length <= end))
            start = prompt.Length;
        if (start < 0 && before.Count > 0 && TryRender(before, false) is { } prior && full.StartsWith(prior, StringComparison.Ordinal)
            && prior.Length >= cursor)
        {
            // Templates without a generation prompt (Llama 2, Mistral): the turn begins after the previous turns; skip
            // its role markup by locating the content.
            start = Locate(full, content, prior.Length) ?? prior.Length;
        }
        if (start < 0) start = Locate(full, content, cursor)
            ?? throw new InvalidOperationException($"Message {index} (assistant): its content does not appear in the rendered conversation; the chat template changes it in a way the encoder cannot follow.");
        if (end < 0 || end < start)
            end = (Locate(full, content, start) is int at ? at + content.Trim().Length : start) is var contentEnd
                ? NextEndOfTurn(full, contentEnd) : full.Length;
        return (start, end);
    }

    /// <summary>Position of the content (as is, else trimmed, as templates often trim) at or after <paramref name="from"/>.</summary>
    private static int? Locate(string full, string content, int from)
    {
        if (content.Length == 0) return from;
        var at = full.IndexOf(content, from, StringComparison.Ordinal);
        if (at >= 0) return at;
        var trimmed = content.Trim();
        if (trimmed.Length == 0) return from;
        at = full.IndexOf(trimmed, from, StringComparison.Ordinal);
        return at >= 0 ? at : null;
    }

    /// <summary>The end of the first end-of-turn marker at or after <paramref name="from"/> (or the end of the text).</summary>
    private int NextEndOfTurn(string full, int from)
    {
        var best = full.Length;
        foreach (var id in _endOfTurn)
            if (Tokenizer.IdToToken(id) is { Length: > 0 } marker)
            {
                var at = full.IndexOf(marker, from, StringComparison.Ordinal);
                if (at >= 0 && at + marker.Length < best) best = at + marker.Length;
            }
        return best;
    }

    private string? TryRender(List<ChatMessage> messages, bool addGenerationPrompt)
    {
        try
        {
            return Template.Render(messages, addGenerationPrompt);
        }
        catch (Jinja.JinjaException)
        {
            // A partial conversation may break a template's rules (e.g. must end with a user turn); fall back to search.
            return null;
        }
    }
}
