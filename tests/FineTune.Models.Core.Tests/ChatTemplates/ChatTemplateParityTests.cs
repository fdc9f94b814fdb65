using System.Text.Json;
using System.Text.Json.Nodes;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.ChatTemplates.Jinja;
using FineTune.Models.Core.Tests.Tokenizers;

namespace FineTune.Models.Core.Tests.ChatTemplates;

/// <summary>
/// Character-for-character parity with @huggingface/jinja (eng/node/render-template.mjs) for the Qwen2.5 template in
/// ../shared/reference/tokenizers, every built-in family template, and templates exercising the Jinja features chat
/// templates use.
/// </summary>
[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public class ChatTemplateParityTests
{
    private static readonly ChatMessage[][] Conversations =
    [
        [new("user", "Hello!")],
        [new("system", "You are a terse assistant."), new("user", "What is 2+2?"), new("assistant", "4")],
        [
            new("system", "Answer in JSON."), new("user", "Extract: <b>Mouse</b> $19.99"),
            new("assistant", "{\"name\": \"Mouse\", \"price\": 19.99}"), new("user", "And this: Keyboard €45"),
            new("assistant", "{\"name\": \"Keyboard\", \"price\": 45}"),
        ],
        [new("user", "  padded question \n"), new("assistant", "\n answer with spaces  "), new("user", "第二个问题：你好吗？😀")],
        [new("user", "line1\nline2\n\n"), new("assistant", "Sure:\n```python\nprint('hi')\n```"), new("user", "Thanks")],
    ];

    private static readonly (string Name, string Template, string? Bos, string? Eos)[] BuiltIns =
    [
        ("chatml", BuiltInTemplates.ChatMl, null, "<|im_end|>"),
        ("llama3", BuiltInTemplates.Llama3, "<|begin_of_text|>", "<|eot_id|>"),
        ("llama2", BuiltInTemplates.Llama2, "<s>", "</s>"),
        ("mistral", BuiltInTemplates.Mistral, "<s>", "</s>"),
        ("zephyr", BuiltInTemplates.Zephyr, "<s>", "</s>"),
        ("gemma", BuiltInTemplates.Gemma, "<bos>", "<eos>"),
        ("phi3", BuiltInTemplates.Phi3, "<s>", "<|endoftext|>"),
    ];

    [Fact]
    public void Qwen25TemplateRendersLikeTheReference()
    {
        var template = ChatTemplate.FromFolder(Repo.SharedFile("reference", "tokenizers", "qwen2.5"));
        Assert.Null(template.BuiltInFamily);
        var cases = new List<(string Label, string Template, JsonObject Context, Func<string> Ours)>();
        foreach (var (conversation, ci) in Conversations.Select((c, i) => (c, i)))
            foreach (var gen in new[] { true, false })
                cases.Add(($"qwen2.5 conversation {ci} gen={gen}", template.Source, Context(conversation, gen, null, "<|im_end|>", "<|endoftext|>"),
                    () => template.Render(conversation, gen)));

        // Tool calls and tool responses go through the template's other branches.
        var toolCall = new Dictionary<string, object?>
        {
            ["tool_calls"] = new List<object?>
            {
                new Dictionary<string, object?>
                {
                    ["type"] = "function",
                    ["function"] = new Dictionary<string, object?> { ["name"] = "get_price", ["arguments"] = new Dictionary<string, object?> { ["sku"] = "A-1", ["qty"] = 2 } },
                },
            },
        };
        ChatMessage[] withTools =
        [
            new("user", "Price of A-1?"), new("assistant", "", toolCall), new("tool", "{\"price\": 19.99}"),
            new("tool", "{\"currency\": \"USD\"}"), new("assistant", "It costs $19.99."),
        ];
        var tools = new List<object?>
        {
            new Dictionary<string, object?>
            {
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?>
                {
                    ["name"] = "get_price", ["description"] = "Price of a product",
                    ["parameters"] = new Dictionary<string, object?> { ["type"] = "object", ["required"] = new List<object?> { "sku" } },
                },
            },
        };
        foreach (var gen in new[] { true, false })
        {
            var ctx = Context(withTools, gen, null, "<|im_end|>", "<|endoftext|>");
            ctx["tools"] = JsonSerializer.SerializeToNode(tools);
            cases.Add(($"qwen2.5 tools gen={gen}", template.Source, ctx,
                () => template.Render(withTools, gen, new Dictionary<string, object?> { ["tools"] = tools })));
        }
        AssertParity(cases);
    }

    [Fact]
    public void BuiltInFamilyTemplatesRenderLikeTheReference()
    {
        var cases = new List<(string, string, JsonObject, Func<string>)>();
        foreach (var (name, source, bos, eos) in BuiltIns)
        {
            var template = ChatTemplate.FromString(source, bos, eos);
            foreach (var (conversation, ci) in Conversations.Select((c, i) => (c, i)))
                foreach (var gen in new[] { true, false })
                    cases.Add(($"{name} conversation {ci} gen={gen}", source, Context(conversation, gen, bos, eos, null),
                        () => template.Render(conversation, gen)));
        }
        AssertParity(cases);
    }

    [Fact]
    public void RoleAlternationViolationsRaiseInBothEngines()
    {
        ChatMessage[] bad = [new("user", "a"), new("user", "b")];
        var cases = new List<(string, string, JsonObject, Func<string>)>();
        foreach (var (name, source, bos, eos) in BuiltIns.Where(b => b.Name is "llama2" or "mistral" or "gemma"))
        {
            var template = ChatTemplate.FromString(source, bos, eos);
            cases.Add(($"{name} bad roles", source, Context(bad, false, bos, eos, null), () => template.Render(bad, false)));
        }
        AssertParity(cases, expectErrors: true);
    }

    private static readonly string[] FeatureTemplates =
    [
        "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% elif loop.last %}L{% else %}M{% endif %}{{ loop.revindex0 }}|{% endfor %}",
        "{%- set ns = namespace(found=false, count=0) -%}{%- for m in messages -%}{%- if m.role == 'assistant' -%}{%- set ns.found = true -%}{%- set ns.count = ns.count + 1 -%}{%- endif -%}{%- endfor -%}{{ ns.found }} {{ ns.count }}",
        "{{ messages[0]['content'] | trim | upper }}|{{ messages[-1].content | lower }}|{{ messages | length }}|{{ (messages[1:] | length) }}|{{ messages[::-1][0].role }}",
        "{{ messages[0].content[1:4] }}|{{ messages[0].content[-3:] }}|{{ messages[0].content.startswith('He') }}|{{ messages[0].content.endswith(('x', 'lo!')) }}",
        "{{ 'a,b,,c'.split(',') | tojson }}|{{ ' x  y '.split() }}|{{ 'hello world'.title() }}|{{ 'hello'.capitalize() }}|{{ 'aXbXc'.replace('X', '-', 1) }}",
        "{{ messages[0] | tojson }}|{{ messages[0] | tojson(indent=2) }}|{{ {'b': 1, 'a': [1, 2.5, none, true]} | tojson(sort_keys=true) }}",
        "{% if undefined_var is defined %}D{% else %}U{% endif %}{% if none_var is none %}N{% endif %}{% if messages[0].content is string %}S{% endif %}{{ missing | default('dflt') }}{{ '' | default('e', true) }}",
        "{%- for k, v in {'x': 1, 'y': 'two'} | items -%}{{ k }}={{ v }};{%- endfor -%}{{ [3, 1, 2] | sort | join(',') }}{{ [1, 2, 3] | first }}{{ [1, 2, 3] | last }}{{ ['a', 'b'] | join('-') }}",
        "{{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 1.0 }} {{ 0.1 + 0.2 }} {{ -3 }} {{ 'a' ~ 1 ~ true }} {{ 'x' * 1 if false else 'y' }} {{ 3 > 2 and not 1 > 2 }}",
        "{{ bos_token }}{% for m in messages %}{{ '<|' + m.role + '|>' }}\n  {{- m.content -}}\n  {{ eos_token }}{% endfor %}\n{%- if add_generation_prompt %}   <|assistant|>\n{% endif %}",
        "  {% for m in messages %}\n    {{ m.role }}\n  {% endfor %}\n{# comment #}\ntext after\n",
        "{% set x = messages | selectattr('role', 'equalto', 'user') | list %}{{ x | length }}{{ messages | map(attribute='role') | join(',') }}{% for m in messages if m.role != 'system' %}{{ m.role[0] }}{% endfor %}",
        "{% for i in range(3) %}{{ i }}{% if i == 1 %}{% break %}{% endif %}{% endfor %}{% for i in range(1, 6, 2) %}{{ i }}{% continue %}X{% endfor %}{% for x in [] %}no{% else %}empty{% endfor %}",
        "{% macro fmt(m, prefix='> ') %}{{ prefix }}{{ m.role }}: {{ m.content }}{% endmacro %}{% for m in messages %}{{ fmt(m) }}{{ fmt(m, prefix='* ') }}\n{% endfor %}",
        "{% set d = {'b': 1, 'A': 2, 'c': 0} %}{% for k, v in d | dictsort %}{{ k }}={{ v }};{% endfor %}|{% for k, v in d | dictsort(reverse=true) %}{{ k }}{% endfor %}|{% for k, v in d | dictsort(by='value') %}{{ k }}{% endfor %}|{% for k, v in {'b': 1, 'B': 2, 'a': 3} | dictsort(true) %}{{ k }}{% endfor %}|{{ d | dictsort | length }}",
        "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}{{ messages[0].role }}{% endcall %}{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}[{{ x }}]{% endcall %}",
        "{{ 'straße' | upper }}|{{ 'ﬁne'.upper() }}|{{ 'ıi' | upper }}|{{ 'ΟΔΟΣ ΑΣ.' | lower }}|{{ 'ΣΑΣ' | lower }}|{{ 'İ' | lower }}|{{ 'ßx' | capitalize }}|{{ 'ΟΔΟΣ' is upper }}|{{ ['b', 'B', 'Σa', 'σb'] | sort | join(',') }}",
        "{{ 'x' in 'xyz' }}{{ 'role' in messages[0] }}{{ 2 in [1, 2] }}{{ 'q' not in ['a'] }}{{ messages[0].get('role') }}{{ messages[0].get('nope', 'dv') }}{{ messages[0].keys() | list | length }}",
    ];

    [Fact]
    public void JinjaFeaturesRenderLikeTheReference()
    {
        var conversation = Conversations[2];
        var cases = new List<(string, string, JsonObject, Func<string>)>();
        foreach (var (source, index) in FeatureTemplates.Select((s, i) => (s, i)))
        {
            var template = ChatTemplate.FromString(source, "<s>", "</s>");
            foreach (var gen in new[] { true, false })
                cases.Add(($"feature {index} gen={gen}", source, Context(conversation, gen, "<s>", "</s>", null), () => template.Render(conversation, gen)));
        }
        AssertParity(cases);
    }

    [Fact]
    public void MessagesAsWrittenRenderLikeTheReference()
    {
        // What `ft chat-template` passes: list content, a message without content, numbers beyond 2^53, and tools.
        const string messages = """
            [{"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": " there"}], "n": 1e21, "m": 1e20},
             {"role": "assistant", "tool_calls": [{"function": {"name": "lookup", "arguments": {"b": 1, "a": "x"}}}]},
             {"role": "tool", "content": null}]
            """;
        const string tools = """[{"type": "function", "function": {"name": "lookup"}}]""";
        const string source =
            "{%- for m in messages -%}{{ m.role }}:{{ m.content is defined }}/{{ m.content is none }}:" +
            "{%- if m.content is string -%}{{ m.content }}{%- elif m.content is iterable -%}{%- for p in m.content -%}{{ p.text }}{%- endfor -%}{%- endif -%}" +
            "{%- for c in m.tool_calls or [] -%}{{ c.function.name }}{{ c.function.arguments | tojson }}{%- endfor -%}|{%- endfor -%}" +
            "{{ messages[0].n }}|{{ messages[0].m }}|{{ messages[0].m is integer }}|{{ [messages[0].n, messages[0].m, 2.5] | tojson }}|{{ tools | tojson }}";
        using var messagesJson = JsonDocument.Parse(messages);
        using var toolsJson = JsonDocument.Parse(tools);
        var template = ChatTemplate.FromString(source, "<s>", "</s>");
        var cases = new List<(string, string, JsonObject, Func<string>)>();
        foreach (var gen in new[] { true, false })
        {
            var ctx = new JsonObject
            {
                ["messages"] = JsonNode.Parse(messages), ["add_generation_prompt"] = gen, ["tools"] = JsonNode.Parse(tools), ["documents"] = null,
                ["bos_token"] = "<s>", ["eos_token"] = "</s>",
            };
            var extra = new Dictionary<string, object?> { ["tools"] = toolsJson.RootElement };
            cases.Add(($"messages as written gen={gen}", source, ctx, () => template.RenderJson(messagesJson.RootElement, gen, extra)));
        }
        AssertParity(cases);
    }

    /// <summary>The variables ChatTemplate.Render passes, as JSON for the reference.</summary>
    private static JsonObject Context(ChatMessage[] messages, bool addGenerationPrompt, string? bos, string? eos, string? pad)
    {
        var array = new JsonArray();
        foreach (var m in messages)
        {
            var o = new JsonObject { ["role"] = m.Role, ["content"] = m.Content };
            if (m.Extra is not null)
                foreach (var (k, v) in m.Extra) o[k] = JsonSerializer.SerializeToNode(v);
            array.Add(o);
        }
        var ctx = new JsonObject
        {
            ["messages"] = array, ["add_generation_prompt"] = addGenerationPrompt, ["tools"] = null, ["documents"] = null,
        };
        if (bos is not null) ctx["bos_token"] = bos;
        if (eos is not null) ctx["eos_token"] = eos;
        if (pad is not null) ctx["pad_token"] = pad;
        return ctx;
    }

    private static void AssertParity(List<(string Label, string Template, JsonObject Context, Func<string> Ours)> cases, bool expectErrors = false)
    {
        using var temp = new TempDirectory("tpl-parity");
        var file = temp.File("cases.json");
        var json = new JsonArray(cases.Select(c => (JsonNode)new JsonObject { ["template"] = c.Template, ["context"] = c.Context.DeepClone() }).ToArray());
        File.WriteAllText(file, json.ToJsonString());
        using var doc = JsonDocument.Parse(NodeReference.Run("render-template.mjs", file));
        var results = doc.RootElement.EnumerateArray().ToArray();
        Assert.Equal(cases.Count, results.Length);
        var failures = new List<string>();
        for (var i = 0; i < cases.Count; i++)
        {
            string? ours = null, ourError = null;
            try { ours = cases[i].Ours(); }
            catch (JinjaException e) { ourError = e.Message; }
            var theirs = results[i].TryGetProperty("output", out var o) ? o.GetString() : null;
            var theirError = results[i].TryGetProperty("error", out var e2) ? e2.GetString() : null;
            if (expectErrors)
            {
                if (ourError is null || theirError is null)
                    failures.Add($"{cases[i].Label}: expected both to raise; ours {ourError ?? "rendered"}, reference {theirError ?? "rendered"}");
            }
            else if (theirError is not null || ourError is not null || ours != theirs)
                failures.Add($"{cases[i].Label}:\n  ours      {JsonSerializer.Serialize(ours ?? "ERROR " + ourError)}\n  reference {JsonSerializer.Serialize(theirs ?? "ERROR " + theirError)}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
