using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.ChatTemplates.Jinja;

namespace FineTune.Cli.Commands;

/// <summary>
/// `ft chat-template &lt;model&gt; --messages file.json [--add-generation-prompt] [--family name] [--tokenize] [--json]`:
/// renders a conversation with the model's chat template; --tokenize also shows the ids and the training loss mask.
/// </summary>
public static class ChatTemplateCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Model folder (tokenizer_config.json chat_template, else the family's built-in template)" };
        var messages = new Option<string>("--messages") { Description = "JSON file: an array of {role, content} or {\"messages\": [...]}", Required = true };
        var generation = new Option<bool>("--add-generation-prompt") { Description = "End with the assistant header, as for generation" };
        var family = new Option<string?>("--family") { Description = $"Use a built-in template: {string.Join(", ", BuiltInTemplates.Families)}" };
        var tokenize = new Option<bool>("--tokenize") { Description = "Also tokenize and show which tokens are training labels" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output (schema in docs/cli.md)" };
        var command = new Command("chat-template", "Render a conversation with a model's chat template")
        {
            model, messages, generation, family, tokenize, json,
        };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(model)!;
            var path = parse.GetValue(messages)!;
            try
            {
                var (messagesJson, variables) = ReadFile(path);
                var template = ChatTemplate.FromFolder(folder, parse.GetValue(family));
                var addGenerationPrompt = parse.GetValue(generation);
                var text = template.RenderJson(messagesJson, addGenerationPrompt, variables);
                EncodedConversation? encoded = null;
                ConversationEncoder? encoder = null;
                if (parse.GetValue(tokenize))
                {
                    encoder = new ConversationEncoder(FineTune.Models.Core.Tokenizers.HfTokenizer.FromFolder(folder), template);
                    encoded = encoder.Encode(ToChatMessages(path, messagesJson));
                }
                if (parse.GetValue(json)) WriteJson(template, addGenerationPrompt, text, encoded);
                else WriteText(text, encoded, encoder);
                return 0;
            }
            catch (Exception e) when (e is IOException or FormatException or NotSupportedException or JinjaException
                                          or JsonException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                Console.Error.WriteLine($"ft chat-template: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static void WriteJson(ChatTemplate template, bool addGenerationPrompt, string text, EncodedConversation? encoded)
    {
        var output = new JsonObject
        {
            ["template"] = template.BuiltInFamily is { } f ? "built-in:" + f : "tokenizer_config.json",
            ["add_generation_prompt"] = addGenerationPrompt,
            ["text"] = text,
        };
        if (encoded is not null)
        {
            output["ids"] = new JsonArray(encoded.InputIds.Select(i => (JsonNode)i).ToArray());
            output["loss_mask"] = new JsonArray(encoded.LossMask.Select(m => (JsonNode)(m ? 1 : 0)).ToArray());
            output["label_count"] = encoded.LabelCount;
        }
        Console.Out.WriteLine(output.ToJsonString(CliJson.Options));
    }

    /// <summary>The rendered text; with --tokenize, then one line per token (id, decoded text, * on training labels).</summary>
    private static void WriteText(string text, EncodedConversation? encoded, ConversationEncoder? encoder)
    {
        Console.Out.Write(text);
        if (encoded is null || encoder is null) return;
        Console.Out.WriteLine();
        Console.Out.WriteLine("--- tokens (* = training label)");
        for (var i = 0; i < encoded.InputIds.Length; i++)
            Console.Out.WriteLine($"{(encoded.LossMask[i] ? '*' : ' ')} {encoded.InputIds[i],8}  {JsonSerializer.Serialize(encoder.Tokenizer.Decode([encoded.InputIds[i]]), CliJson.Options)}");
        Console.Error.WriteLine($"{encoded.InputIds.Length} tokens, {encoded.LabelCount} labels");
    }

    /// <summary>
    /// The file's messages as written (every message an object with a string role) and the other variables an object
    /// form may give the template: tools and documents, as transformers' apply_chat_template takes them.
    /// </summary>
    private static (JsonElement Messages, Dictionary<string, object?> Variables) ReadFile(string path)
    {
        var root = JsonFile.Read(path);
        var variables = new Dictionary<string, object?>();
        var messages = root;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (!root.TryGetProperty("messages", out messages))
                throw new FormatException($"{path}: expected an array of messages or an object with \"messages\".");
            foreach (var name in new[] { "tools", "documents" })
                if (root.TryGetProperty(name, out var value)) variables[name] = value.Clone();
        }
        if (messages.ValueKind != JsonValueKind.Array)
            throw new FormatException($"{path}: expected an array of messages or an object with \"messages\".");
        if (messages.GetArrayLength() == 0) throw new FormatException($"{path}: no messages.");
        var index = 0;
        foreach (var m in messages.EnumerateArray())
        {
            if (m.ValueKind != JsonValueKind.Object || !m.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
                throw new FormatException($"{path}: messages[{index}] needs a string \"role\".");
            index++;
        }
        return (messages.Clone(), variables);
    }

    /// <summary>The messages as training sees them (--tokenize): string content, other fields passed along.</summary>
    private static List<ChatMessage> ToChatMessages(string path, JsonElement messages)
    {
        var result = new List<ChatMessage>();
        var index = 0;
        foreach (var m in messages.EnumerateArray())
        {
            var kind = m.TryGetProperty("content", out var content) ? content.ValueKind : JsonValueKind.Undefined;
            if (kind != JsonValueKind.String)
                throw new FormatException($"{path}: messages[{index}].content: --tokenize needs a string, as training data holds (found {(kind == JsonValueKind.Undefined ? "none" : kind.ToString().ToLowerInvariant())}).");
            Dictionary<string, object?>? extra = null;
            foreach (var p in m.EnumerateObject())
                if (p.Name is not ("role" or "content")) (extra ??= [])[p.Name] = p.Value.Clone();
            result.Add(new ChatMessage(m.GetProperty("role").GetString()!, content.GetString(), extra));
            index++;
        }
        return result;
    }
}
