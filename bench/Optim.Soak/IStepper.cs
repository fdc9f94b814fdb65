using TorchSharp.Modules;

namespace Optim.Soak;

/// <summary>One optimizer under test, driven the way SftTrainer drives it: set the rate, step, zero the gradients.</summary>
internal interface IStepper : IDisposable
{
    void Step(double learningRate);

    void ZeroGrad();
}

/// <summary>Which optimizer a soak runs.</summary>
internal enum OptimizerKind
{
    Ours,
    TorchSharp,
}

internal static class Steppers
{
    /// <summary>HF's grouping: decay on the matrices, none on the bias (the last parameter).</summary>
    public static IStepper Create(OptimizerKind kind, IReadOnlyList<Parameter> p, double weightDecay) => kind switch
    {
        OptimizerKind.Ours => new OursStepper(p, weightDecay),
        OptimizerKind.TorchSharp => new TorchSharpStepper(p, weightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
