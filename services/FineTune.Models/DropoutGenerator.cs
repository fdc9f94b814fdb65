using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Models;

/// <summary>
/// Where training-time randomness (LoRA dropout) draws on this thread: torch's global generator, unless a unit of work
/// set its own: a training job's generator for its steps, or a row shard's (FineTune.Training's RowParallelBackward),
/// so a job's masks depend on its seed alone, not on whatever else draws random numbers in the process, and shards on
/// parallel threads draw the same masks whatever order they run in. <see cref="ActivationCheckpoint"/> replays this
/// generator's state when it recomputes a block.
/// </summary>
public static class DropoutGenerator
{
    [ThreadStatic]
    private static Generator? _current;

    /// <summary>This thread's generator for dropout; null = torch's global one.</summary>
    public static Generator? Current => _current;

    /// <summary>Uses <paramref name="generator"/> on this thread until the returned scope is disposed.</summary>
    public static IDisposable Use(Generator generator)
    {
        var previous = _current;
        _current = generator;
        return new Restore(previous);
    }

    /// <summary>The state of the generator dropout draws from on this thread (a copy).</summary>
    public static Tensor GetState() => _current?.get_state() ?? torch.random.get_rng_state();

    /// <summary>Sets the state of the generator dropout draws from on this thread.</summary>
    public static void SetState(Tensor state)
    {
        if (_current is { } generator) generator.set_state(state);
        else torch.random.set_rng_state(state);
    }

    private sealed class Restore(Generator? previous) : IDisposable
    {
        public void Dispose() => _current = previous;
    }
}
