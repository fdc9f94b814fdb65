namespace FineTune.Models.Tiny;

/// <summary>Sizes of the embedded Llama-architecture model. Vocabulary comes from the tiny tokenizer.</summary>
public sealed record TinyModelPreset(string Name, int Layers, int HiddenSize, int Heads, int KeyValueHeads, int IntermediateSize,
    string Purpose)
{
    public static readonly TinyModelPreset Nano = new("nano", 2, 64, 4, 2, 176, "unit tests: builds and runs in milliseconds");
    public static readonly TinyModelPreset Tiny = new("tiny", 4, 128, 4, 2, 352, "default: demos and the seed-003 fine-tuning run on 2 CPU cores");
    public static readonly TinyModelPreset Small = new("small", 4, 256, 8, 4, 704, "more capacity when tiny underfits a task");
    public static readonly TinyModelPreset Bench = new("bench", 4, 512, 8, 4, 1408, "throughput benchmarks (4 layers, 512 wide)");

    public static readonly IReadOnlyList<TinyModelPreset> All = [Nano, Tiny, Small, Bench];

    public static TinyModelPreset Named(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown tiny model preset '{name}' (presets: {string.Join(", ", All.Select(p => p.Name))})");
}
