using FineTune.Contracts.Models;
using FineTune.Data;
using FineTune.Demo;
using FineTune.Messaging;
using FineTune.Models.Tiny;

namespace Preprocess.Worker.Services;

/// <summary>
/// Writes the models the platform generates (<see cref="GeneratedModel"/>: the default "tiny" model, the demo job's model)
/// under <c>models/&lt;folder&gt;</c> the first time a request names one, before the pipeline loads its tokenizer. The front
/// door has no TorchSharp, so this worker, which loads models anyway, materialises them. Written once: the files are assembled
/// in a sibling folder and moved into place; requests in this process wait for one another, and when another replica moved
/// its copy in first (same preset, seed and corpus: the same bytes) this one's is discarded.
/// </summary>
public sealed class GeneratedModelWriter(DataRoot root, ILogger<GeneratedModelWriter> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Makes sure <c>models/&lt;folder&gt;</c> holds <paramref name="field"/>'s model (a request's generateModel).</summary>
    public async Task EnsureAsync(string folderName, string field, CancellationToken cancellationToken)
    {
        GeneratedModel model;
        try { model = GeneratedModel.Parse(field); }
        catch (FormatException ex) { throw new InvalidMessageException($"generateModel: {ex.Message}"); }
        if (model.Folder != folderName)
            throw new InvalidMessageException($"generateModel '{field}' is written to models/{model.Folder}, not models/{folderName}");
        var folder = root.Model(model.Folder);
        if (IsWritten(folder)) return;
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (IsWritten(folder)) return;
            Directory.CreateDirectory(root.Models);
            var staging = Path.Combine(root.Models, $".{model.Folder}.generating-{Guid.NewGuid():N}");
            try
            {
                await Task.Run(() => Write(staging, model), cancellationToken);
                Directory.Move(staging, folder);
                logger.LogInformation("Generated model {Folder} ({Preset}, seed {Seed}, {Corpus} tokenizer corpus)", model.Folder, model.Preset, model.Seed, model.Corpus);
            }
            catch (IOException) when (IsWritten(folder))
            {
                logger.LogInformation("Model {Folder} was written by another worker meanwhile", model.Folder);
            }
            finally
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes <paramref name="model"/>'s files into <paramref name="folder"/> (which must not exist).</summary>
    public static void Write(string folder, GeneratedModel model)
    {
        var preset = TinyModelPreset.Named(model.Preset);
        if (model.Corpus == GeneratedModel.ProductsCorpus)
            TinyModel.Write(folder, model.Seed, preset, tokenizerCorpus: DemoJob.TokenizerCorpus(), merges: DemoJob.TokenizerMerges);
        else
            TinyModel.Write(folder, model.Seed, preset);
    }

    private static bool IsWritten(string folder) => File.Exists(Path.Combine(folder, "config.json"));
}
