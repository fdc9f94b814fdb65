using static TorchSharp.torch;

namespace FineTune.Training.Lora;

/// <summary>
/// Where LoRA dropout draws its masks on this thread: torch's global generator, unless a row shard of a training step
/// (<see cref="Training.RowParallelBackward"/>) runs here with its own, seeded from the global one, so that shards on
/// parallel threads draw reproducible masks whatever order they run in.
/// </summary>
public static class DropoutGenerator
{
    [ThreadStatic]
    private static Generator? _current;

    /// <summary>This thread's generator for LoRA dropout; null = torch's global one.</summary>
    public static Generator? Current => _current;

    /// <summary>Uses <paramref name="generator"/> on this thread until the returned scope is disposed.</summary>
    public static IDisposable Use(Generator generator)
    {
        var previous = _current;
        _current = generator;
        return new Restore(previous);
    }

    private sealed class Restore(Generator? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
