using TorchSharp;
using TorchSharp.Modules;

namespace Optim.Soak;

/// <summary>TorchSharp 0.107's AdamW, as SftTrainer used it before issue 13 (the baseline).</summary>
internal sealed class TorchSharpStepper : IStepper
{
    private readonly AdamW _optimizer;

    public TorchSharpStepper(IReadOnlyList<Parameter> p, double weightDecay)
    {
        _optimizer = torch.optim.AdamW(
            [
                new AdamW.ParamGroup(p.Take(p.Count - 1), 1e-3, 0.9, 0.999, 1e-8, weightDecay, false, false),
                new AdamW.ParamGroup([p[^1]], 1e-3, 0.9, 0.999, 1e-8, 0.0, false, false),
            ], 1e-3);
    }

    public void Step(double learningRate)
    {
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _optimizer.step();
    }

    public void ZeroGrad() => _optimizer.zero_grad();

    public void Dispose() => _optimizer.Dispose();
}
