using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Optim;

/// <summary>
/// AdamW with decoupled weight decay (Loshchilov &amp; Hutter), PyTorch's single-tensor update, one parameter at a time:
/// p ← p·(1 − lr·λ); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).
/// Hand-written instead of TorchSharp's AdamW because that one passes every hyper-parameter to libtorch as an implicit
/// Scalar owned by nobody but the finalizer, which can free it while the native kernel reads it (docs/training.md,
/// "The optimizer's native crash"). Here every Scalar is a local in a using declaration, so it lives until the kernel has
/// returned; every temporary tensor belongs to the per-parameter dispose scope; the moment tensors belong to their
/// <see cref="AdamWParamState"/>, and the states to this optimizer. The checkpoint layout is TorchSharp's AdamW's, so
/// checkpoints written before the switch resume unchanged.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    /// <summary>The optimizer name TorchSharp writes first in its state files (the type name of its AdamW).</summary>
    public const string FormatName = "AdamW";

    private readonly List<AdamWParamGroup> _groups;
    private readonly List<AdamWParamState[]> _states;

    public AdamWOptimizer(IEnumerable<AdamWParamGroup> groups)
    {
        _groups = [.. groups];
        if (_groups.Sum(g => g.Parameters.Count) == 0) throw new InvalidOperationException("Nothing to train: no parameter requires a gradient");
        _states = [.. _groups.Select(g => g.Parameters.Select(p => new AdamWParamState(p)).ToArray())];
    }

    public IReadOnlyList<AdamWParamGroup> ParamGroups => _groups;

    /// <summary>The state of parameter <paramref name="index"/> of group <paramref name="group"/>.</summary>
    public AdamWParamState StateOf(int group, int index) => _states[group][index];

    /// <summary>Sets the learning rate of every parameter group.</summary>
    public void SetLearningRate(double lr)
    {
        foreach (var group in _groups) group.LearningRate = lr;
    }

    /// <summary>One update of every parameter that has a gradient (a parameter without one is skipped, its step unchanged).</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        for (var g = 0; g < _groups.Count; g++) StepGroup(_groups[g], _states[g]);
    }

    /// <summary>Zeroes every gradient in place (a parameter without one keeps none).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _groups.SelectMany(g => g.Parameters))
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    private static void StepGroup(AdamWParamGroup group, AdamWParamState[] states)
    {
        using var decay = (1 - group.LearningRate * group.WeightDecay).ToScalar();
        using var beta1 = group.Beta1.ToScalar();
        using var oneMinusBeta1 = (1 - group.Beta1).ToScalar();
        using var beta2 = group.Beta2.ToScalar();
        using var oneMinusBeta2 = (1 - group.Beta2).ToScalar();
        using var eps = group.Epsilon.ToScalar();
        using var one = 1.0.ToScalar();   // add_(Scalar) would make its alpha = 1 an implicit Scalar owned by no one
        for (var i = 0; i < states.Length; i++)
        {
            using var scope = NewDisposeScope();
            var param = group.Parameters[i];
            var grad = param.grad;
            if (grad is null) continue;
            var state = states[i];
            state.Step++;
            var biasCorrection1 = 1 - Math.Pow(group.Beta1, state.Step);
            var biasCorrection2 = 1 - Math.Pow(group.Beta2, state.Step);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var negStepSize = (-(group.LearningRate / biasCorrection1)).ToScalar();

            param.mul_(decay);
            state.ExpAvg.mul_(beta1).add_(grad, oneMinusBeta1);
            state.ExpAvgSq.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
            var denom = state.ExpAvgSq.sqrt().div_(sqrtBiasCorrection2).add_(eps, one);
            param.addcdiv_(state.ExpAvg, denom, negStepSize);
        }
    }

    /// <summary>
    /// TorchSharp's optimizer state layout: the name; LEB128 counts of groups and states; per group its initial and
    /// current learning rate, β1, β2, ε, weight decay (doubles), AMSGrad and maximize (bools); then every parameter's state.
    /// </summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(FormatName);
        Leb128.Write(writer, _groups.Count);
        Leb128.Write(writer, _states.Sum(s => s.Length));
        foreach (var g in _groups)
        {
            foreach (var value in new[] { g.InitialLearningRate, g.LearningRate, g.Beta1, g.Beta2, g.Epsilon, g.WeightDecay })
                writer.Write(value);
            writer.Write(AdamWParamGroup.AmsGrad);
            writer.Write(AdamWParamGroup.Maximize);
        }
        foreach (var state in _states.SelectMany(s => s)) state.Save(writer);
    }

    /// <summary>Reads what <see cref="Save"/> (or TorchSharp's AdamW) wrote, for the same groups of the same parameters.</summary>
    public void Load(BinaryReader reader)
    {
        var name = reader.ReadString();
        if (name != FormatName) throw new InvalidDataException($"the optimizer state was written by '{name}', not {FormatName}");
        var groups = Leb128.Read(reader);
        var states = Leb128.Read(reader);
        if (groups != _groups.Count || states != _states.Sum(s => s.Length))
            throw new InvalidDataException($"the optimizer state has {groups} groups of {states} parameters, this run {_groups.Count} of {_states.Sum(s => s.Length)}");
        foreach (var g in _groups) LoadGroup(reader, g);
        foreach (var state in _states.SelectMany(s => s)) state.Load(reader);
    }

    private static void LoadGroup(BinaryReader reader, AdamWParamGroup g)
    {
        g.InitialLearningRate = reader.ReadDouble();
        g.LearningRate = reader.ReadDouble();
        g.Beta1 = reader.ReadDouble();
        g.Beta2 = reader.ReadDouble();
        g.Epsilon = reader.ReadDouble();
        g.WeightDecay = reader.ReadDouble();
        if (reader.ReadBoolean()) throw new InvalidDataException("the optimizer state uses AMSGrad; this AdamW does not");
        if (reader.ReadBoolean()) throw new InvalidDataException("the optimizer state maximizes; this AdamW minimizes");
    }

    public void Dispose()
    {
        foreach (var state in _states.SelectMany(s => s)) state.Dispose();
    }
}
