using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Optim;

/// <summary>
/// AdamW with decoupled weight decay, grouped as HF Trainer (which TRL's SFTTrainer and PEFT recipes use) groups it:
/// decay on every trainable weight matrix, LoRA A and B included, and none on biases or normalisation weights.
/// HF's defaults: betas (0.9, 0.999), eps 1e-8, weight_decay 0 (the seeds use 0.01).
/// </summary>
public static class OptimizerFactory
{
    public static AdamW CreateAdamW(IEnumerable<(string Name, Parameter Param)> parameters, AdamWOptions options)
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in parameters)
            (IsNoDecay(name) ? noDecay : decay).Add(p);

        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0)
            groups.Add(new AdamW.ParamGroup(decay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, false, false));
        if (noDecay.Count > 0)
            groups.Add(new AdamW.ParamGroup(noDecay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, 0.0, false, false));
        if (groups.Count == 0) throw new InvalidOperationException("Nothing to train: no parameter requires a gradient");
        return torch.optim.AdamW(groups, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>HF's rule: biases and LayerNorm/RMSNorm weights get no weight decay.</summary>
    public static bool IsNoDecay(string name) =>
        name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.OrdinalIgnoreCase);

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public static void SetLearningRate(optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}

/// <summary>AdamW's hyper-parameters.</summary>
public sealed record AdamWOptions(double LearningRate = 2e-4, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8, double WeightDecay = 0.0);
