using FineTune.Export.Ollama;
using FineTune.Models.Core.ChatTemplates;

namespace FineTune.Export.Tests;

public sealed class ModelfileTests
{
    [Theory]
    [InlineData("chatml", "chatml")]
    [InlineData("llama3", "llama3")]
    [InlineData("llama2", "llama2")]
    [InlineData("mistral", "mistral")]
    [InlineData("gemma", "gemma")]
    [InlineData("phi3", "phi3")]
    [InlineData("zephyr", "zephyr")]
    public void EachBuiltInChatTemplateMapsToItsOllamaFamily(string jinjaFamily, string ollamaFamily)
    {
        Assert.Equal(ollamaFamily, OllamaTemplates.Detect(BuiltInTemplates.ForFamily(jinjaFamily))!.Name);
    }

    [Fact]
    public void ChatMlModelfileHasFromTemplateStopsForEveryEndOfTurnAndJobParameters()
    {
        var m = Modelfile.Create("./model.gguf", null, BuiltInTemplates.ChatMl, ["<|im_end|>", "<|endoftext|>"],
            system: "You extract JSON.", parameters: new OllamaParameters(Temperature: 0.2, TopP: 0.9, NumCtx: 4096));
        var text = m.Render();
        Assert.Contains("FROM ./model.gguf\n", text);
        Assert.DoesNotContain("ADAPTER", text);
        Assert.Contains("TEMPLATE \"\"\"{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n\"\"\"", text);
        Assert.Contains("SYSTEM \"\"\"You extract JSON.\"\"\"", text);
        Assert.Contains("PARAMETER stop \"<|im_start|>\"\n", text);
        Assert.Contains("PARAMETER stop \"<|im_end|>\"\n", text);
        Assert.Contains("PARAMETER stop \"<|endoftext|>\"\n", text);
        Assert.Single(text.Split('\n'), l => l == "PARAMETER stop \"<|im_end|>\"");   // no duplicates
        Assert.Contains("PARAMETER temperature 0.2\n", text);
        Assert.Contains("PARAMETER top_p 0.9\n", text);
        Assert.Contains("PARAMETER num_ctx 4096\n", text);
        var api = m.ApiParameters();
        Assert.Equal(["<|im_start|>", "<|im_end|>", "<|endoftext|>"], (string[])api["stop"]);
        Assert.Equal(4096, api["num_ctx"]);
    }

    [Fact]
    public void AdapterModelfileNamesTheBaseAndTheAdapter()
    {
        var text = Modelfile.Create("./base.gguf", "./adapter.gguf", BuiltInTemplates.Llama3, ["<|eot_id|>"]).Render();
        Assert.Contains("FROM ./base.gguf\nADAPTER ./adapter.gguf\n", text);
        Assert.Contains("<|start_header_id|>assistant<|end_header_id|>", text);
        Assert.Contains("PARAMETER stop \"<|eot_id|>\"", text);
        Assert.DoesNotContain("temperature", text);
    }

    [Fact]
    public void UnknownTemplatesAndTripleQuotesAreRejectedClearly()
    {
        var unknown = Assert.Throws<NotSupportedException>(() => Modelfile.Create("m.gguf", null, "{{ messages }}", []));
        Assert.Contains("pass the family explicitly", unknown.Message);
        Assert.Equal("gemma", Modelfile.Create("m.gguf", null, "{{ messages }}", [], familyOverride: "gemma").Family.Name);
        var m = Modelfile.Create("m.gguf", null, BuiltInTemplates.ChatMl, [], system: "say \"\"\" please");
        Assert.Throws<ArgumentException>(() => m.Render());
    }

    [Fact]
    public void CreateCommandIsTheOneUsersRunByHand()
    {
        Assert.Equal("ollama create shop-extractor -f Modelfile", Modelfile.CreateCommand("shop-extractor", "Modelfile"));
    }
}
