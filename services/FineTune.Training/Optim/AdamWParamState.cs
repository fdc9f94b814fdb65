using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Optim;

/// <summary>
/// AdamW's running state for one parameter: the step count and the first and second moment estimates. The state owns
/// its two tensors (zeros like the parameter, created outside any dispose scope) and frees them in <see cref="Dispose"/>.
/// </summary>
public sealed class AdamWParamState : IDisposable
{
    public AdamWParamState(Parameter parameter)
    {
        using var _ = no_grad();
        ExpAvg = zeros_like(parameter).DetachFromDisposeScope();
        ExpAvgSq = zeros_like(parameter).DetachFromDisposeScope();
    }

    /// <summary>Updates applied to this parameter (t in the bias corrections).</summary>
    public long Step { get; set; }

    /// <summary>m: the exponential moving average of the gradient.</summary>
    public Tensor ExpAvg { get; }

    /// <summary>v: the exponential moving average of the squared gradient.</summary>
    public Tensor ExpAvgSq { get; }

    /// <summary>TorchSharp's per-parameter layout: step (int64), m, v (its tensor format), then "has max_exp_avg_sq" (false).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Step);
        ExpAvg.Save(writer);
        ExpAvgSq.Save(writer);
        writer.Write(false);
    }

    /// <summary>Reads what <see cref="Save"/> wrote into the existing tensors (dtype and shape must match).</summary>
    public void Load(BinaryReader reader)
    {
        Step = reader.ReadInt64();
        ExpAvg.Load(reader);
        ExpAvgSq.Load(reader);
        if (reader.ReadBoolean())
            throw new InvalidDataException("the optimizer state holds AMSGrad's max_exp_avg_sq; this AdamW does not use AMSGrad");
    }

    public void Dispose()
    {
        ExpAvg.Dispose();
        ExpAvgSq.Dispose();
    }
}
