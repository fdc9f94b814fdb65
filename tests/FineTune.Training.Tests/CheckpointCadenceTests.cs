using FineTune.Contracts.Jobs;
using FineTune.Training.Checkpoints;
using FineTune.Training.Jobs;

namespace FineTune.Training.Tests;

/// <summary>When checkpoints are written: save_steps, capped by save_fraction of the job and by save_minutes of training.</summary>
public class CheckpointCadenceTests
{
    [Theory]
    [InlineData(200, 0.1, 600, 60)]    // the demo recipe: save_steps 200 of 600 would lose a third of the job; 10 % → 60
    [InlineData(10, 0.1, 600, 10)]     // save_steps already finer than 10 %
    [InlineData(0, 0.1, 500, 50)]      // no save_steps: the fraction alone
    [InlineData(7, 0, 600, 7)]         // fraction off: save_steps alone
    [InlineData(0, 0.1, 30, 10)]       // a short job: the fraction rule asks for no more than every 10 steps
    [InlineData(2, 0.1, 4, 2)]         // ... and save_steps still wins when finer
    [InlineData(0, 0, 100, 0)]         // neither: only the final checkpoint
    public void StepIntervalIsTheFinerOfSaveStepsAndTheFraction(int saveSteps, double fraction, int total, int expected) =>
        Assert.Equal(expected, new CheckpointCadence(saveSteps, fraction, TimeSpan.Zero, total).Steps);

    [Fact]
    public void StepRuleFiresOnMultiplesSoAResumedRunCheckpointsAtTheSameSteps()
    {
        var cadence = new CheckpointCadence(200, 0.1, TimeSpan.Zero, 600);
        Assert.Equal([60, 120, 180, 240, 300, 360, 420, 480, 540, 600], Enumerable.Range(1, 600).Where(cadence.IsDue));
    }

    [Fact]
    public void TimeRuleFiresOnceTheIntervalHasPassedSinceTheLastCheckpoint()
    {
        var clock = new ManualClock();
        var cadence = new CheckpointCadence(0, 0, TimeSpan.FromMinutes(10), 1_000_000, clock);
        clock.Advance(TimeSpan.FromMinutes(9));
        Assert.False(cadence.IsDue(1));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(cadence.IsDue(2));
        cadence.Saved();
        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.False(cadence.IsDue(3));
    }

    [Fact]
    public void JobDefaultsLoseAtMostATenthOfTheJobOrTenMinutes()
    {
        var options = TrainingJobFile.Parse("model: m\ntraining:\n  max_steps: 600\n  save_steps: 200\n", "job.yaml").Training.ToOptions();
        Assert.Equal((0.1, TimeSpan.FromMinutes(10)), (options.SaveFraction, options.SaveInterval));
        Assert.Equal(60, new CheckpointCadence(options.SaveSteps, options.SaveFraction, options.SaveInterval, 600).Steps);
    }

    [Theory]
    [InlineData("save_fraction: 1.5", "training.save_fraction must be in [0, 1] (0 = off) (got 1.5)")]
    [InlineData("save_minutes: -1", "training.save_minutes must be in [0, 10080] (0 = off) (got -1)")]
    public void OutOfRangeCadenceNamesTheField(string field, string expected)
    {
        var e = Assert.Throws<TrainingJobException>(() => TrainingJobFile.Parse($"model: m\ntraining:\n  {field}\n", "cadence.yaml"));
        Assert.Contains(expected, e.Message);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _ticks;
        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
