using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Models.Core.Tokenizers;
using Microsoft.Extensions.Logging.Abstractions;
using Preprocess.Worker.Services;

namespace Preprocess.Worker.Tests;

/// <summary>A data root with two model folders: "llama2" (the real Llama 2 tokenizer from ../shared) and "tiny" (the embedded tiny ChatML tokenizer).</summary>
internal sealed class PreprocessFixture : IDisposable
{
    public TempDirectory Directory { get; } = new("ft-preprocess");
    public DataRoot Root { get; }
    public DatasetStore Store { get; }
    public EncoderCache Encoders { get; } = new();

    public PreprocessFixture()
    {
        Root = new DataRoot(Directory.Path);
        Store = new DatasetStore(Root);
        var llama = Root.Model("llama2");
        System.IO.Directory.CreateDirectory(llama);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Repo.SharedFile("reference", "tokenizers", "llama2", file), Path.Combine(llama, file));
        var tiny = Root.Model("tiny");
        System.IO.Directory.CreateDirectory(tiny);
        TinyTokenizerBuilder.Write(tiny);
    }

    public PreprocessPipeline Pipeline() => new(Root, Store, Encoders, NullLogger<PreprocessPipeline>.Instance);

    public async Task<DatasetInfo> IngestAsync(string text, double evalRatio = 0)
    {
        var result = await Store.IngestAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)), new IngestOptions { EvalRatio = evalRatio });
        return Assert.IsType<IngestResult.Stored>(result).Info;
    }

    public async Task<DatasetInfo> IngestFixtureAsync(string fixture, double evalRatio = 0) =>
        await IngestAsync(await File.ReadAllTextAsync(FixtureFile.Path(fixture)), evalRatio);

    public void Dispose() => Directory.Dispose();
}
