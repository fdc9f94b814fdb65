namespace FineTune.Training.Tests;

/// <summary>
/// AdamW written out in float64 on plain arrays, the equations of Loshchilov &amp; Hutter as PyTorch applies them, plus
/// global-norm clipping as torch.nn.utils.clip_grad_norm_ defines it: the reference the optimizer tests compare against.
/// </summary>
internal sealed class ReferenceAdamW(double beta1, double beta2, double eps)
{
    public sealed class Tensor(double[] values, double weightDecay)
    {
        public double[] Values { get; } = values;
        public double[] M { get; } = new double[values.Length];
        public double[] V { get; } = new double[values.Length];
        public double WeightDecay { get; } = weightDecay;
        public long Step { get; set; }
    }

    /// <summary>Scales <paramref name="grads"/> in place to <paramref name="maxNorm"/> when their global L2 norm exceeds it; returns the norm.</summary>
    public static double Clip(IReadOnlyList<double[]> grads, double maxNorm)
    {
        var norm = Math.Sqrt(grads.Sum(g => g.Sum(x => x * x)));
        var coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
            foreach (var g in grads)
                for (var i = 0; i < g.Length; i++) g[i] *= coefficient;
        return norm;
    }

    public void Step(Tensor p, double[] grad, double lr)
    {
        p.Step++;
        var bc1 = 1 - Math.Pow(beta1, p.Step);
        var bc2 = 1 - Math.Pow(beta2, p.Step);
        for (var i = 0; i < grad.Length; i++)
        {
            p.Values[i] *= 1 - lr * p.WeightDecay;
            p.M[i] = beta1 * p.M[i] + (1 - beta1) * grad[i];
            p.V[i] = beta2 * p.V[i] + (1 - beta2) * grad[i] * grad[i];
            var mHat = p.M[i] / bc1;
            var vHat = p.V[i] / bc2;
            p.Values[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
        }
    }
}
