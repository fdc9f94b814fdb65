using FineTune.Contracts.Models;
using FineTune.Data;
using FineTune.Demo;
using FineTune.Messaging;
using FineTune.Models.Tiny;
using FineTune.Models.Core.Tokenizers;
using Microsoft.Extensions.Logging.Abstractions;
using Preprocess.Worker.Services;

namespace Preprocess.Worker.Tests;

/// <summary>
/// The models the platform generates (model "tiny", the demo's model): named by the front door, written by the preprocess
/// worker's <see cref="GeneratedModelWriter"/> once, before it tokenizes.
/// </summary>
public sealed class GeneratedModelTests : IDisposable
{
    private readonly TempDirectory _dir = new("ft-generated-model");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ContractNamesMatchTheTinyModelPresetsAndTheDefaultFolder()
    {
        Assert.Equal(TinyModelPreset.All.Select(p => p.Name), GeneratedModel.Presets);
        Assert.Equal(TinyModel.DataRootFolder, "models/" + GeneratedModel.Default.Folder);
        Assert.Equal("nano-llama-products", DemoJob.Model("NANO").Folder);
        Assert.Equal("tiny-llama-products-s5", DemoJob.Model("tiny", 5).Folder);
        Assert.Equal(DemoJob.Model("small", 5), GeneratedModel.Parse(DemoJob.Model("small", 5).ToField()));
        Assert.Throws<FormatException>(() => GeneratedModel.Parse("huge/0/builtin"));
        Assert.Throws<FormatException>(() => GeneratedModel.Parse("tiny/0/poems"));
        Assert.Throws<ArgumentException>(() => DemoJob.Model("huge"));
    }

    [Fact]
    public void DemoModelTokenizerIsLearntFromTheTrainingSplitSoTaskWordsAreSingleTokens()
    {
        GeneratedModelWriter.Write(_dir.File("model"), DemoJob.Model("nano"));
        var tokenizer = HfTokenizer.FromFolder(_dir.File("model"));
        var generic = _dir.File("generic");
        TinyModel.Write(generic, seed: 0, TinyModelPreset.Nano);
        var genericTokenizer = HfTokenizer.FromFolder(generic);

        // Every value the task draws from is one token after a space, as a domain tokenizer makes it.
        foreach (var word in ProductExtractionTask.Manufacturers.Concat(ProductExtractionTask.Categories))
            Assert.Single(tokenizer.Encode(" " + word, addSpecialTokens: false));
        var record = ProductExtractionTask.Generate(1, DemoJob.EvalSeed).Single();
        var text = record.Html + record.Product.ToJson().ToJsonString();
        int demo = tokenizer.Encode(text, false).Length, builtIn = genericTokenizer.Encode(text, false).Length;
        Assert.True(demo * 3 < builtIn * 2, $"a held-out record takes {demo} tokens with the demo tokenizer, {builtIn} with the built-in one");
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, false), skipSpecialTokens: false));
    }

    [Fact]
    public async Task TwoWorkersAskingAtOnceLeaveOneCompleteFolderAndNoStaging()
    {
        var root = new DataRoot(_dir.Path);
        var model = new GeneratedModel("nano", 3, GeneratedModel.BuiltinCorpus);
        GeneratedModelWriter Replica() => new(root, NullLogger<GeneratedModelWriter>.Instance);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            Task.Run(() => Replica().EnsureAsync(model.Folder, model.ToField(), CancellationToken.None))));

        var folder = root.Model(model.Folder);
        Assert.True(File.Exists(Path.Combine(folder, "config.json")));
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.Equal([model.Folder], Directory.EnumerateFileSystemEntries(root.Models).Select(Path.GetFileName));

        // The same model as a direct write: the seed decides every byte.
        GeneratedModelWriter.Write(_dir.File("direct"), model);
        Assert.Equal(File.ReadAllBytes(_dir.File("direct/model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public async Task ARequestWhoseFolderIsNotTheGeneratedModelsIsRejected()
    {
        var writer = new GeneratedModelWriter(new DataRoot(_dir.Path), NullLogger<GeneratedModelWriter>.Instance);
        await Assert.ThrowsAsync<InvalidMessageException>(() => writer.EnsureAsync("my-model", GeneratedModel.Default.ToField(), CancellationToken.None));
        await Assert.ThrowsAsync<InvalidMessageException>(() => writer.EnsureAsync("tiny-llama", "tiny/zero/builtin", CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "models", "my-model")));
    }
}
