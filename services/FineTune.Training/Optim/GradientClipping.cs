using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Optim;

/// <summary>
/// Global L2 gradient-norm clipping (torch.nn.utils.clip_grad_norm_): when the norm exceeds the maximum, every gradient is
/// scaled by max/(norm + 1e-6). libtorch's own clip_grad_norm_ does the work; it takes plain doubles, so no Scalar
/// crosses into native code.
/// </summary>
public static class GradientClipping
{
    /// <summary>The global norm before clipping; clips to <paramref name="maxNorm"/> when it is &gt; 0 (0 = report only).</summary>
    public static double ClipByGlobalNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        if (maxNorm > 0) return nn.utils.clip_grad_norm_(parameters, maxNorm);
        using var scope = NewDisposeScope();
        var squares = parameters.Where(p => p.grad is not null).Select(p => p.grad!.to(ScalarType.Float32).square().sum()).ToList();
        return squares.Count == 0 ? 0 : Math.Sqrt(stack(squares).sum().item<float>());
    }
}
