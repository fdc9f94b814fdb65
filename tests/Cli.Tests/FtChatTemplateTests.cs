using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core.Tokenizers;

namespace Cli.Tests;

/// <summary>
/// `ft chat-template` as a user runs it: the messages file reaches the template as transformers' apply_chat_template
/// passes it (content of any type, a missing key undefined, tools from the file), and --tokenize, which needs the
/// training data's string content, refuses anything else naming the message.
/// </summary>
public sealed class FtChatTemplateTests
{
    private const string Template =
        "{%- for m in messages -%}{{ m.role }}:" +
        "{%- if m.content is string -%}{{ m.content }}" +
        "{%- elif m.content is defined -%}{%- for p in m.content -%}{{ p.text }}{%- endfor -%}" +
        "{%- else -%}(no content){%- for c in m.tool_calls -%}{{ c.function.name }}({%- for k, v in c.function.arguments | dictsort -%}{{ k }}={{ v }},{%- endfor -%}){%- endfor -%}" +
        "{%- endif -%}|{%- endfor -%}" +
        "tools={{ tools | map(attribute='function') | map(attribute='name') | join(',') }}";

    private static readonly JsonObject Conversation = new()
    {
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = new JsonArray(Part("Hi"), Part(" there")) },
            new JsonObject
            {
                ["role"] = "assistant",
                ["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["function"] = new JsonObject { ["name"] = "lookup", ["arguments"] = new JsonObject { ["b"] = 1, ["a"] = "x" } },
                }),
            },
            new JsonObject { ["role"] = "tool", ["content"] = "42" }),
        ["tools"] = new JsonArray(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = "lookup" } }),
    };

    private static JsonObject Part(string text) => new() { ["type"] = "text", ["text"] = text };

    /// <summary>A tokenizer folder with <see cref="Template"/> and the conversation written beside it.</summary>
    private static async Task<(string Model, string Messages)> PrepareAsync(TempDirectory work)
    {
        TinyTokenizerBuilder.Write(work.Path);
        File.WriteAllText(work.File("tokenizer_config.json"), new JsonObject { ["chat_template"] = Template, ["eos_token"] = "</s>" }.ToJsonString());
        var messages = work.File("chat.json");
        await File.WriteAllTextAsync(messages, Conversation.ToJsonString());
        return (work.Path, messages);
    }

    [Fact]
    public async Task ListContentMissingContentAndToolsReachTheTemplateAsWritten()
    {
        using var work = new TempDirectory("ft-chat-template");
        var (model, messages) = await PrepareAsync(work);

        var (code, stdout, stderr) = await FtProcess.RunAsync(["chat-template", model, "--messages", messages, "--json"]);

        Assert.True(code == 0, stderr);
        Assert.Equal("user:Hi there|assistant:(no content)lookup(a=x,b=1,)|tool:42|tools=lookup",
            JsonDocument.Parse(stdout).RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task TokenizeRefusesContentThatIsNotAStringNamingTheMessage()
    {
        using var work = new TempDirectory("ft-chat-template-tokenize");
        var (model, messages) = await PrepareAsync(work);

        var (code, stdout, stderr) = await FtProcess.RunAsync(["chat-template", model, "--messages", messages, "--tokenize"]);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("chat.json: messages[0].content: --tokenize needs a string", stderr);
        Assert.Contains("(found array)", stderr);
    }
}
