namespace FineTune.Training.Optim;

/// <summary>AdamW's hyper-parameters (HF's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0; the seeds use 0.01).</summary>
public sealed record AdamWOptions(double LearningRate = 2e-4, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.0)
{
    /// <summary>Throws when a value is outside the range AdamW is defined for (PyTorch's checks).</summary>
    public void Validate()
    {
        if (!(LearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "the learning rate must be >= 0");
        if (!(Epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "epsilon must be >= 0");
        if (!(Beta1 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "beta1 must be in [0, 1)");
        if (!(Beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "beta2 must be in [0, 1)");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "weight decay must be >= 0");
    }
}
