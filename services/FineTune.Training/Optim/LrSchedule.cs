using FineTune.Contracts.Optim;
namespace FineTune.Training.Optim;

/// <summary>
/// Learning rate as a pure function of the optimizer step, the way HF's get_*_schedule_with_warmup define it, so a
/// resumed run needs only the step count: for step index s (0-based, the s-th optimizer update),
/// warmup: lr·s/warmup for s &lt; warmup; then constant: lr; linear: lr·(total − s)/(total − warmup);
/// cosine: lr·½(1 + cos(π·(s − warmup)/(total − warmup))). As in HF, the first update runs at 0 when warmup &gt; 0.
/// </summary>
public sealed record LrSchedule(LrScheduleKind Kind, double PeakLr, int WarmupSteps, int TotalSteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps) return PeakLr * step / Math.Max(1, WarmupSteps);
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Kind switch
        {
            LrScheduleKind.Constant => PeakLr,
            LrScheduleKind.Linear => PeakLr * (1 - progress),
            LrScheduleKind.Cosine => PeakLr * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, null),
        };
    }
}
