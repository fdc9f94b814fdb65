namespace FineTune.Training.Checkpoints;

/// <summary>
/// When the trainer writes a checkpoint, so that one failure (a killed replica, a lost member) repeats little work: every
/// <c>save_steps</c> steps, but at least every <c>save_fraction</c> of the job's steps (default 10 %; never more often than
/// every <see cref="MinFractionSteps"/> steps by this rule, so a short job is not checkpointed at every step), and at least
/// every <c>save_minutes</c> of training (off when 0). The step rules are on multiples of the interval, so a resumed run checkpoints
/// at the same steps; the time rule counts from the last checkpoint written or resumed.
/// </summary>
public sealed class CheckpointCadence
{
    private readonly TimeProvider _clock;
    private long _lastSaved;

    /// <summary>The fraction rule's smallest interval: one failure repeats at most max(fraction × steps, this many) steps.</summary>
    public const int MinFractionSteps = 10;

    public CheckpointCadence(int saveSteps, double saveFraction, TimeSpan saveInterval, int totalSteps, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(saveSteps);
        ArgumentOutOfRangeException.ThrowIfNegative(saveFraction);
        ArgumentOutOfRangeException.ThrowIfLessThan(saveInterval, TimeSpan.Zero);
        var byFraction = saveFraction > 0 ? Math.Max(MinFractionSteps, (int)Math.Floor(totalSteps * saveFraction)) : 0;
        Steps = (saveSteps, byFraction) switch
        {
            (0, _) => byFraction,
            (_, 0) => saveSteps,
            _ => Math.Min(saveSteps, byFraction),
        };
        Interval = saveInterval;
        _clock = clock ?? TimeProvider.System;
        _lastSaved = _clock.GetTimestamp();
    }

    /// <summary>Checkpoint at every multiple of this step count (0: no step rule).</summary>
    public int Steps { get; }

    /// <summary>Checkpoint once this much time has passed since the last one (zero: no time rule).</summary>
    public TimeSpan Interval { get; }

    /// <summary>Whether a checkpoint is due after optimizer step <paramref name="globalStep"/> (1-based count of steps done).</summary>
    public bool IsDue(int globalStep) =>
        (Steps > 0 && globalStep % Steps == 0) || (Interval > TimeSpan.Zero && _clock.GetElapsedTime(_lastSaved) >= Interval);

    /// <summary>A checkpoint was written or resumed from now: the time rule counts from here.</summary>
    public void Saved() => _lastSaved = _clock.GetTimestamp();
}
