using TorchSharp.Modules;

namespace FineTune.Training.Optim;

/// <summary>
/// AdamW grouped as HF Trainer (which TRL's SFTTrainer and PEFT recipes use) groups it: decay on every trainable weight
/// matrix, LoRA A and B included, and none on biases or normalisation weights.
/// </summary>
public static class OptimizerFactory
{
    public static AdamWOptimizer CreateAdamW(IEnumerable<(string Name, Parameter Param)> parameters, AdamWOptions options)
    {
        options.Validate();
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in parameters)
            (IsNoDecay(name) ? noDecay : decay).Add(p);

        var groups = new List<AdamWParamGroup>();
        if (decay.Count > 0)
            groups.Add(new AdamWParamGroup(decay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay));
        if (noDecay.Count > 0)
            groups.Add(new AdamWParamGroup(noDecay, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, 0.0));
        return new AdamWOptimizer(groups);
    }

    /// <summary>HF's rule: biases and LayerNorm/RMSNorm weights get no weight decay.</summary>
    public static bool IsNoDecay(string name) =>
        name.EndsWith(".bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.OrdinalIgnoreCase);
}
