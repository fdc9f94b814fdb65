using FineTune.Training.Lora;
using static TorchSharp.torch;

namespace FineTune.Export.Tests;

/// <summary>
/// Random LoRA A and B drawn from a generator of their own. Seeding the global torch generator is not enough here:
/// xUnit runs the test classes of this assembly in parallel, every module constructor draws from that generator, and
/// an adapter drawn while another class built a model came out different from run to run (a different merged model,
/// whose greedy tokens then met a near-tie in one clean-clone run).
/// </summary>
internal static class RandomLoraWeights
{
    public static void Fill(IEnumerable<LoraLinear> layers, long seed, double bStd)
    {
        var generator = new Generator((ulong)seed, CPU);
        using var noGrad = no_grad();
        foreach (var layer in layers)
        {
            var bound = 1 / Math.Sqrt(layer.LoraA.shape[1]);   // kaiming_uniform with a = √5, as PEFT initialises A
            layer.LoraA.uniform_(-bound, bound, generator);
            layer.LoraB.normal_(0, bStd, generator);
        }
    }
}
