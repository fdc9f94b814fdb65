using TorchSharp.Modules;

namespace FineTune.Training.Optim;

/// <summary>
/// Parameters that share AdamW's hyper-parameters (HF groups them as "decay" and "no decay"). Plain doubles only: the
/// Scalars a step needs are made from these by <see cref="AdamWOptimizer.Step"/> and disposed before it returns.
/// The group does not own its parameters (the model does).
/// </summary>
public sealed class AdamWParamGroup
{
    public AdamWParamGroup(IReadOnlyList<Parameter> parameters, double learningRate, double beta1, double beta2, double epsilon, double weightDecay)
    {
        Parameters = parameters;
        LearningRate = learningRate;
        InitialLearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The rate the next step uses; the trainer sets it from the schedule before every step.</summary>
    public double LearningRate { get; set; }

    /// <summary>The rate the group was created with (kept for the checkpoint format).</summary>
    public double InitialLearningRate { get; internal set; }

    public double Beta1 { get; internal set; }

    public double Beta2 { get; internal set; }

    public double Epsilon { get; internal set; }

    public double WeightDecay { get; internal set; }

    /// <summary>AMSGrad is not implemented; the checkpoint format has a flag for it, always false here.</summary>
    public static bool AmsGrad => false;

    /// <summary>Maximisation is not implemented; always false in the checkpoint.</summary>
    public static bool Maximize => false;
}
