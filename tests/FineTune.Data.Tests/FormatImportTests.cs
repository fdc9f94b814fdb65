using System.Text;
using FineTune.Data;

namespace FineTune.Data.Tests;

/// <summary>Every format the seed documents show (and ShareGPT, CSV) normalises to the same canonical records.</summary>
public sealed class FormatImportTests
{
    private const string Q1 = "解释什么是SAR影像";
    private const string A1 = "SAR影像是合成孔径雷达影像，其核心特点是主动成像、不受光照影响，适合全天时、全天候对地观测。";
    private const string Q2 = "用论文风格说明SAR影像的斑点噪声";
    private const string A2 = "SAR影像中的斑点噪声源于相干成像机制，本质上是一种乘性噪声，严重影响影像解译精度。";

    private static readonly Conversation[] Sar = [Imports.Pair(Q1, A1), Imports.Pair(Q2, A2)];

    public static TheoryData<string, string> SameRecordsInEveryFormat => new()
    {
        { "jsonl instruction (seed 001)", File.ReadAllText(FixtureFile.Path("seed001_instruction.jsonl")) },
        { "text 指令/回答 (seed 001)", File.ReadAllText(FixtureFile.Path("seed001_zh_blocks.txt")) },
        { "json array input/output (seed 000)", $$"""[{"input": "{{Q1}}", "output": "{{A1}}"}, {"input": "{{Q2}}", "output": "{{A2}}"}]""" },
        { "jsonl alpaca with empty input", $$"""
            {"instruction": "{{Q1}}", "input": "", "output": "{{A1}}"}
            {"instruction": "{{Q2}}", "input": "", "output": "{{A2}}"}
            """ },
        { "jsonl chat (seed 002)", $$"""
            {"messages": [{"role": "user", "content": "{{Q1}}"}, {"role": "assistant", "content": "{{A1}}"}]}
            {"messages": [{"role": "user", "content": "{{Q2}}"}, {"role": "assistant", "content": "{{A2}}"}]}
            """ },
        { "json array sharegpt", $$"""
            [{"conversations": [{"from": "human", "value": "{{Q1}}"}, {"from": "gpt", "value": "{{A1}}"}]},
             {"conversations": [{"from": "human", "value": "{{Q2}}"}, {"from": "gpt", "value": "{{A2}}"}]}]
            """ },
        { "jsonl prompt-completion (TRL, OpenAI)", $$"""
            {"prompt": "{{Q1}}", "completion": "{{A1}}"}
            {"prompt": "{{Q2}}", "completion": "{{A2}}"}
            """ },
        { "jsonl conversational prompt-completion (TRL)", $$"""
            {"prompt": [{"role": "user", "content": "{{Q1}}"}], "completion": [{"role": "assistant", "content": "{{A1}}"}]}
            {"prompt": [{"role": "user", "content": "{{Q2}}"}], "completion": [{"role": "assistant", "content": "{{A2}}"}]}
            """ },
        { "text ### Instruction (seed 004), indented", $"\t### Instruction:\n\t{Q1}\n\t### Response:\n\t{A1}\n\t### Instruction:\n\t{Q2}\n\t### Response:\n\t{A2}\n" },
        { "csv with header", $"instruction,output\n{Q1},\"{A1}\"\n\"{Q2}\",{A2}\n" },
        { "jsonl with BOM and CRLF", "\uFEFF" + $$"""{"instruction": "{{Q1}}", "output": "{{A1}}"}""" + "\r\n\r\n" + $$"""{"instruction": "{{Q2}}", "output": "{{A2}}"}""" + "\r\n" },
    };

    [Theory]
    [MemberData(nameof(SameRecordsInEveryFormat))]
    public async Task EveryFormatImportsToTheSameCanonicalRecords(string format, string text)
    {
        var (records, issues, _) = await Imports.TextAsync(text);
        Assert.True(issues.Count == 0, $"{format}: {string.Join("; ", issues)}");
        Assert.Equal(Sar.Select(CanonicalJson.Serialize).Select(Encoding.UTF8.GetString), records.Select(CanonicalJson.Serialize).Select(Encoding.UTF8.GetString));
    }

    [Fact]
    public async Task Seed000JsonArrayImportsBothExamples()
    {
        var (records, issues, format) = await Imports.FileAsync("seed000_input_output.json");
        Assert.Empty(issues);
        Assert.Equal("json/input-output", format);
        Assert.Equal([Imports.Pair("什么是机器学习？", "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。"),
                      Imports.Pair("解释监督学习和无监督学习的区别。", "监督学习使用有标签的数据训练模型，无监督学习使用无标签的数据。")], records);
    }

    [Fact]
    public async Task Seed002ChatExampleImports()
    {
        var (records, issues, format) = await Imports.FileAsync("seed002_chat.json");
        Assert.Empty(issues);
        Assert.Equal("json/chat", format);
        Assert.Equal([Imports.Pair("你的问题...", "期望的回答...")], records);
    }

    [Fact]
    public async Task Seed003OutputObjectBecomesCanonicalJsonText()
    {
        var (records, issues, _) = await Imports.FileAsync("seed003_extraction.json");
        Assert.Empty(issues);
        Assert.Equal(2, records.Count);
        Assert.Equal("""{"name":"Laptop","price":"$999","category":"Electronics","manufacturer":"Dell"}""", records[0].Messages[1].Content);
        Assert.Equal("<div><h2>Product: Book</h2><p>Price: $20</p><span>Category: Literature</span><span>Manufacturer: Penguin</span></div>", records[1].Messages[0].Content);
        Assert.Equal("""{"name":"Book","price":"$20","category":"Literature","manufacturer":"Penguin"}""", records[1].Messages[1].Content);
    }

    [Theory]
    [InlineData("seed004_blocks.txt", "Tell me a joke.", "Why don't scientists trust atoms? Because they make up everything!", "Explain what is quantum computing.", "Quantum computing is...")]
    [InlineData("seed004_blocks_zh.txt", "讲一个笑话。", "为什么鱼不说话？因为它们怕水泄露秘密！", "苹果和橙子哪个更甜？", "通常来说，苹果比橙子甜，不过也要看品种。")]
    public async Task Seed004TextBlocksImport(string fixture, string q1, string a1, string q2, string a2)
    {
        var (records, issues, format) = await Imports.FileAsync(fixture);
        Assert.Empty(issues);
        Assert.Equal("text", format);
        Assert.Equal([Imports.Pair(q1, a1), Imports.Pair(q2, a2)], records);
    }

    [Fact]
    public async Task MultiTurnChatWithSystemKeepsEveryTurn()
    {
        var (records, issues, _) = await Imports.TextAsync("""
            {"messages": [{"role": "system", "content": "你是金融分析师。"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1 answer"}, {"role": "user", "content": "Q2"}, {"role": "assistant", "content": "A2 answer"}]}
            """);
        Assert.Empty(issues);
        Assert.Equal(["system", "user", "assistant", "user", "assistant"], records[0].Messages.Select(m => m.Role));
    }

    [Theory]
    [InlineData("""{"prompt": "Q", "completion": "A", "label": false}""", "label", "KTO/DPO")]
    [InlineData("""{"prompt": "Q", "chosen": "A", "rejected": "B"}""", "chosen", "KTO/DPO")]
    [InlineData("""{"prompt": "Q", "completion": [{"role": "assistant", "content": "A"}]}""", "completion", "both be strings or both be lists")]
    [InlineData("""{"prompt": [{"role": "user", "content": "Q"}], "completion": [{"role": "bot", "content": "A"}]}""", "completion[0].role", "unknown role 'bot'")]
    [InlineData("""{"prompt": "Q", "completion": "  "}""", "completion", "empty content")]
    public async Task PromptCompletionRecordsThatCannotTrainAreRefusedNamingTheField(string record, string field, string message)
    {
        var (records, issues, _) = await Imports.TextAsync(record);
        Assert.Empty(records);
        var issue = Assert.Single(issues);
        Assert.Equal(field, issue.Field);
        Assert.Contains(message, issue.Message);
    }

    [Fact]
    public async Task OpenAiWeightOneTrainsAsUsualAndWeightZeroIsRefusedNamingTheMessage()
    {
        var (records, issues, _) = await Imports.TextAsync("""
            {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "The answer, in full.", "weight": 1}]}
            {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A first draft.", "weight": 0}, {"role": "user", "content": "again"}, {"role": "assistant", "content": "The answer, in full."}]}
            {"messages": [{"role": "user", "content": "Q", "weight": 1}, {"role": "assistant", "content": "The answer, in full."}]}
            """);
        Assert.Equal([Imports.Pair("Q", "The answer, in full.")], records);
        Assert.Equal([(2L, "messages[1].weight"), (3L, "messages[0].weight")], issues.Select(i => (i.Line!.Value, i.Field!)));
        Assert.Contains("weight 0", issues[0].Message);
        Assert.Contains("assistant messages only", issues[1].Message);
    }

    [Fact]
    public async Task ToolDefinitionsBesideTheMessagesAreReportedAsUnused()
    {
        var (records, issues, _) = await Imports.TextAsync("""
            {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "The answer, in full."}], "tools": [{"type": "function", "function": {"name": "f"}}]}
            """);
        Assert.Equal([Imports.Pair("Q", "The answer, in full.")], records);
        var issue = Assert.Single(issues);
        Assert.Equal((IssueSeverity.Warning, "tools"), (issue.Severity, issue.Field));
        Assert.Contains("without tool definitions", issue.Message);
    }

    [Fact]
    public async Task AlpacaInputIsAppendedToTheInstruction()
    {
        var (records, _, format) = await Imports.TextAsync("""{"instruction": "Translate to French", "input": "Good morning", "output": "Bonjour"}""");
        Assert.Equal("jsonl/instruction", format);
        Assert.Equal(Imports.Pair("Translate to French\n\nGood morning", "Bonjour"), records[0]);
    }

    [Fact]
    public async Task ExplicitFormatOverridesDetection()
    {
        // Auto would read this as CSV (two columns); forced to text it is a text-block file with stray text.
        var (_, autoIssues, autoFormat) = await Imports.TextAsync("a,b\n");
        Assert.Equal("csv", autoFormat);
        Assert.Contains(autoIssues, i => i.Message.Contains("very short answer"));
        var (records, issues, format) = await Imports.TextAsync("a,b\n", DatasetFormat.Text);
        Assert.Equal("text", format);
        Assert.Empty(records);
        Assert.Contains(issues, i => i.Severity == IssueSeverity.Error && i.Line == 1);

        // A chat-shaped record forced to input-output reports the missing field by name.
        var (_, forced, _) = await Imports.TextAsync("""{"messages": [{"role": "user", "content": "hi"}]}""", DatasetFormat.InputOutput);
        Assert.Contains(forced, i => i.Field == "input" && i.Message.Contains("missing required field"));
    }
}
