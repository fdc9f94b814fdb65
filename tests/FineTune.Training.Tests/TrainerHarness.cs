using TorchSharp;
using FineTune.Training.Lora;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>Builds a seeded toy model + adapter + trainer the same way every time (as a new process would).</summary>
internal sealed class TrainerHarness : IDisposable
{
    public TrainerHarness(IReadOnlyList<TokenizedExample> examples, TrainingOptions options, LoraOptions? lora = null,
        string? checkpoints = null, SftDataOptions? data = null, int vocab = 24, int hidden = 12)
    {
        torch.manual_seed(options.Seed);
        Model = new ToyCausalLM(vocab: vocab, hidden: hidden, intermediate: 16, seed: 5);
        torch.manual_seed(options.Seed);
        Adapter = LoraInjector.Inject(Model, lora ?? new LoraOptions { Rank = 4, Alpha = 8, Dropout = 0.1 });
        Data = SftDataset.Build(examples, data ?? new SftDataOptions { MaxSeqLen = 64 });
        Trainer = new SftTrainer(Adapter, Data, null, options, padId: 0, CPU, checkpoints);
    }

    public ToyCausalLM Model { get; }
    public LoraAdapter Adapter { get; }
    public SftDataset Data { get; }
    public SftTrainer Trainer { get; }

    public async Task<List<TrainingEvent>> RunAsync()
    {
        var events = new List<TrainingEvent>();
        await foreach (var e in Trainer.RunAsync()) events.Add(e);
        return events;
    }

    /// <summary>The adapter's tensors as raw bytes, for bit-identity checks.</summary>
    public Dictionary<string, byte[]> AdapterBytes() =>
        Adapter.StateDict().ToDictionary(kv => kv.Key, kv => { using var t = kv.Value; return t.bytes.ToArray(); });

    public void Dispose() => Model.Dispose();
}
