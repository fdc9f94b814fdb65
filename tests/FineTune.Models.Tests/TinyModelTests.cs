using FineTune.Models;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Models.Generation;
using FineTune.Models.Tiny;
using FineTune.Models.Core.Tokenizers;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Models.Tests;

public class TinyModelTests
{
    [Fact]
    public void TinyModelIsARealHuggingFaceFolderThatLoadsTokenizesAndGenerates()
    {
        using var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, "tiny-llama");

        var config = TinyModel.Write(folder, seed: 3, TinyModelPreset.Nano);

        foreach (var f in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(folder, f)), f);
        Assert.Equal("LlamaForCausalLM", ModelConfig.FromFolder(folder).Architecture);
        var tokenizer = HfTokenizer.FromFolder(folder);
        Assert.Equal(config.VocabSize, tokenizer.VocabSize);
        Assert.Contains(config.EosTokenIds[0], tokenizer.EosIds);
        var prompt = ChatTemplate.FromFolder(folder).Render([new ChatMessage("user", "Hello")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", prompt);

        using var model = CausalLM.Load(folder);
        var summary = ModelInspector.Inspect(folder);
        Assert.Equal(model.ParameterCount, summary.ParameterCount);
        Assert.Equal("byte-level BPE", summary.TokenizerKind);
        var result = new TextGenerator(model, ids => tokenizer.Decode(ids))
            .Generate(tokenizer.Encode(prompt, addSpecialTokens: false), new GenerationOptions { Greedy = true, MaxNewTokens = 5 });
        Assert.Equal(5, result.TokenIds.Length);
    }

    [Fact]
    public void SameSeedGivesByteIdenticalFilesAndAnotherSeedOtherWeights()
    {
        using var dir = new TempDirectory();
        TinyModel.Write(dir.File("a"), seed: 1, TinyModelPreset.Nano);
        TinyModel.Write(dir.File("b"), seed: 1, TinyModelPreset.Nano);
        TinyModel.Write(dir.File("c"), seed: 2, TinyModelPreset.Nano);

        foreach (var f in Directory.GetFiles(dir.File("a")).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), f!)), File.ReadAllBytes(Path.Combine(dir.File("b"), f!)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(dir.File("a"), "model.safetensors")),
            File.ReadAllBytes(Path.Combine(dir.File("c"), "model.safetensors")));
    }

    [Fact]
    public void ANonEmptyFolderIsNotOverwrittenUnlessAsked()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("keep.txt"), "mine");

        var e = Assert.Throws<IOException>(() => TinyModel.Write(dir.Path, preset: TinyModelPreset.Nano));

        Assert.Contains("not empty", e.Message);
        Assert.Equal("mine", File.ReadAllText(dir.File("keep.txt")));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir.Path)!, $".{Path.GetFileName(dir.Path)}.tmp-*"));

        TinyModel.Write(dir.Path, preset: TinyModelPreset.Nano, overwrite: true);
        Assert.False(File.Exists(dir.File("keep.txt")));
    }

    [Fact]
    public void BackwardThroughTheModelReachesEveryParameter()
    {
        using var scope = NewDisposeScope();
        using var model = TinyDecoder.Create(TinyDecoder.ConfigJson("Qwen2ForCausalLM"));
        var ids = ModelKit.Ids([1, 2, 3, 4, 5, 6]);

        var logits = model.forward(ids, segmentIds: ModelKit.Ids([1, 1, 1, 2, 2, 0]));
        nn.functional.cross_entropy(logits.view(-1, 64), ModelKit.Ids([2, 3, 4, 5, 6, 7]).view(-1)).backward();

        foreach (var (name, p) in model.named_parameters())
        {
            Assert.NotNull(p.grad);
            Assert.True(p.grad!.isfinite().all().item<bool>(), name);
        }
        Assert.True(model.Model.Layers[0].MlpBlock.GetLinear("up_proj").parameters().First().grad!.abs().sum().item<float>() > 0);
    }
}
