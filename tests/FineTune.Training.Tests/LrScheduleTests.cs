using FineTune.Contracts.Optim;
using FineTune.Training.Optim;

namespace FineTune.Training.Tests;

public class LrScheduleTests
{
    [Fact]
    public void WarmupRisesLinearlyFromZeroAsInHuggingFace()
    {
        var s = new LrSchedule(LrScheduleKind.Linear, 2e-4, 5, 60);
        Assert.Equal(0, s.At(0));
        Assert.Equal(2e-4 * 2 / 5, s.At(2), 12);
        Assert.Equal(2e-4, s.At(5), 12);
    }

    [Fact]
    public void LinearDecaysToZeroAtTheLastStep()
    {
        var s = new LrSchedule(LrScheduleKind.Linear, 1.0, 10, 110);
        Assert.Equal(0.5, s.At(60), 12);
        Assert.Equal(0.01, s.At(109), 12);
        Assert.Equal(0, s.At(110), 12);
    }

    [Fact]
    public void CosineIsHalfWayAtTheMiddle()
    {
        var s = new LrSchedule(LrScheduleKind.Cosine, 1.0, 0, 100);
        Assert.Equal(1.0, s.At(0), 12);
        Assert.Equal(0.5, s.At(50), 12);
        Assert.Equal(0.0, s.At(100), 12);
    }

    [Fact]
    public void ConstantHoldsAfterWarmup()
    {
        var s = new LrSchedule(LrScheduleKind.Constant, 3e-4, 2, 10);
        Assert.Equal(1.5e-4, s.At(1), 12);
        Assert.Equal(3e-4, s.At(9), 12);
    }
}
