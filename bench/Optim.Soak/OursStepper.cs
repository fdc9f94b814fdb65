using FineTune.Training.Optim;
using TorchSharp.Modules;

namespace Optim.Soak;

/// <summary>FineTune.Training's AdamW (owned Scalars).</summary>
internal sealed class OursStepper(IReadOnlyList<Parameter> p, double weightDecay) : IStepper
{
    private readonly AdamWOptimizer _optimizer = OptimizerFactory.CreateAdamW(
        p.Select((x, i) => (i == p.Count - 1 ? $"p{i}.bias" : $"p{i}.weight", x)), new AdamWOptions(1e-3, 0.9, 0.999, 1e-8, weightDecay));

    public void Step(double learningRate)
    {
        _optimizer.SetLearningRate(learningRate);
        _optimizer.Step();
    }

    public void ZeroGrad() => _optimizer.ZeroGrad();

    public void Dispose() => _optimizer.Dispose();
}
