using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Core.Tokenizers;

namespace FineTune.Models.Core.Tests.ChatTemplates;

[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public class ConversationEncoderTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You extract product data."),
        new("user", "<b>Mouse</b> costs $19.99"),
        new("assistant", "{\"name\": \"Mouse\", \"price\": 19.99}"),
        new("user", "And a keyboard for 45 euros?"),
        new("assistant", "{\"name\": \"Keyboard\", \"price\": 45}"),
    ];

    /// <summary>The tiny byte-level tokenizer with the real Qwen2.5 tokenizer_config.json (its chat template and special tokens).</summary>
    private static TempDirectory QwenStyleFolder(Func<string, string>? editConfig = null)
    {
        var dir = new TempDirectory("conv-qwen");
        TinyTokenizerBuilder.Write(dir.Path);
        var config = File.ReadAllText(Repo.SharedFile("reference", "tokenizers", "qwen2.5", "tokenizer_config.json"));
        File.WriteAllText(dir.File("tokenizer_config.json"), editConfig is null ? config : editConfig(config));
        return dir;
    }

    private static List<int[]> MaskedRuns(EncodedConversation encoded)
    {
        var runs = new List<int[]>();
        var current = new List<int>();
        for (var i = 0; i <= encoded.InputIds.Length; i++)
        {
            if (i < encoded.InputIds.Length && encoded.LossMask[i]) { current.Add(encoded.InputIds[i]); continue; }
            if (current.Count > 0) { runs.Add([.. current]); current.Clear(); }
        }
        return runs;
    }

    [Fact]
    public void QwenTemplateLabelsExactlyEachAssistantContentAndItsImEnd()
    {
        using var dir = QwenStyleFolder();
        var encoder = ConversationEncoder.FromFolder(dir.Path);

        var encoded = encoder.Encode(Conversation);

        var runs = MaskedRuns(encoded);
        Assert.Equal(2, runs.Count);
        Assert.Equal(Conversation[2].Content + "<|im_end|>", encoder.Tokenizer.Decode(runs[0]));
        Assert.Equal(Conversation[4].Content + "<|im_end|>", encoder.Tokenizer.Decode(runs[1]));
        // The ids are the tokenization of the whole rendered conversation.
        Assert.Equal(encoder.Tokenizer.Encode(encoder.Template.Render(Conversation, false), addSpecialTokens: false), encoded.InputIds);
    }

    [Fact]
    public void TrainOnInputsLabelsEveryToken()
    {
        using var dir = QwenStyleFolder();
        var encoded = ConversationEncoder.FromFolder(dir.Path).Encode(Conversation, trainOnInputs: true);
        Assert.All(encoded.LossMask, Assert.True);
        Assert.Equal(encoded.InputIds.Length, encoded.LabelCount);
    }

    [Fact]
    public void TheEndOfTurnTokenIsALabelEvenWhenPadEqualsEos()
    {
        using var dir = QwenStyleFolder(c => c.Replace("\"pad_token\": \"<|endoftext|>\"", "\"pad_token\": \"<|im_end|>\""));
        var encoder = ConversationEncoder.FromFolder(dir.Path);
        Assert.Equal(encoder.Tokenizer.EosId, encoder.Tokenizer.PadId);
        var imEnd = encoder.Tokenizer.TokenToId("<|im_end|>")!.Value;

        var encoded = encoder.Encode(Conversation);

        var imEndPositions = Enumerable.Range(0, encoded.InputIds.Length).Where(i => encoded.InputIds[i] == imEnd).ToArray();
        Assert.Equal(5, imEndPositions.Length); // system, user, assistant, user, assistant
        Assert.Equal([false, false, true, false, true], imEndPositions.Select(i => encoded.LossMask[i]).ToArray());
    }

    [Fact]
    public void Llama2FolderUsesTheBuiltInTemplateAndLabelsAnswersWithEos()
    {
        var folder = Repo.SharedFile("reference", "tokenizers", "llama2");
        var encoder = ConversationEncoder.FromFolder(folder);
        Assert.Equal("llama2", encoder.Template.BuiltInFamily);

        var encoded = encoder.Encode(Conversation);

        var runs = MaskedRuns(encoded);
        Assert.Equal(2, runs.Count);
        Assert.Equal(Conversation[2].Content + "</s>", encoder.Tokenizer.Decode(runs[0]));
        Assert.Equal(Conversation[4].Content + "</s>", encoder.Tokenizer.Decode(runs[1]));
        Assert.All(runs, r => Assert.Equal(encoder.Tokenizer.EosId, r[^1]));
        Assert.Equal(1, encoded.InputIds[0]); // the template's bos_token
    }

    [Fact]
    public void AConversationWithoutAssistantTurnsHasNoLabels()
    {
        using var dir = QwenStyleFolder();
        var encoded = ConversationEncoder.FromFolder(dir.Path).Encode([new("user", "Hello")]);
        Assert.Equal(0, encoded.LabelCount);
        Assert.NotEmpty(encoded.InputIds);
    }

    [Fact]
    public void PromptEncodingEndsWithTheAssistantHeader()
    {
        using var dir = QwenStyleFolder();
        var encoder = ConversationEncoder.FromFolder(dir.Path);
        var ids = encoder.EncodePrompt([new("user", "Hi")]);
        Assert.EndsWith("<|im_start|>assistant\n", encoder.Tokenizer.Decode(ids));
    }
}
