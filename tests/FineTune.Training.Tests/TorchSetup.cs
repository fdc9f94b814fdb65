using System.Runtime.CompilerServices;
using TorchSharp;

// torch's default generator and thread count are process-wide: tests that seed it (LoRA init, dropout) must not interleave.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace FineTune.Training.Tests;

internal static class TorchSetup
{
    /// <summary>
    /// One intra-op thread for every test: the models are tiny, runs are reproducible, and OpenMP workers do not spin
    /// against the other test projects CI runs beside this one.
    /// </summary>
    [ModuleInitializer]
    internal static void SingleThreaded() => torch.set_num_threads(1);
}
