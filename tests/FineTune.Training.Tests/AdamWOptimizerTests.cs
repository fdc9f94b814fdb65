using FineTune.Contracts.Optim;
using FineTune.Training.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Tests;

/// <summary>
/// Our AdamW against the float64 equations (1,000 steps, changing learning rate, weight decay, clipping) and against
/// TorchSharp's AdamW (bit-equal updates and a byte-equal, interchangeable checkpoint).
/// </summary>
public class AdamWOptimizerTests
{
    private static readonly long[][] Shapes = [[7, 5], [5], [3, 4]];
    private static readonly double[] Decays = [0.01, 0, 0.01];   // the bias (shape [5]) sits in the no-decay group

    [Fact]
    public void MatchesTheFloat64EquationsOver1000StepsWithScheduleDecayAndClipping()
    {
        const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, maxNorm = 1.0;
        var schedule = new LrSchedule(LrScheduleKind.Cosine, PeakLr: 3e-2, WarmupSteps: 50, TotalSteps: 1000);
        var random = new Random(1234);
        var initial = Shapes.Select(s => RandomValues(random, Count(s), 1.0)).ToArray();
        var parameters = Shapes.Select((s, i) => new Parameter(tensor(initial[i], s, ScalarType.Float64))).ToArray();
        using var optimizer = CreateOptimizer(parameters, 1e-2, beta1, beta2, eps, weightDecay: 0.01);
        var reference = new ReferenceAdamW(beta1, beta2, eps);
        var expected = initial.Select((v, i) => new ReferenceAdamW.Tensor((double[])v.Clone(), Decays[i])).ToArray();

        var clipped = 0;
        for (var step = 0; step < 1000; step++)
        {
            var lr = schedule.At(step);
            var scale = step % 3 == 0 ? 5.0 : 0.05;   // every third step's norm is far above maxNorm, the others below
            var grads = Shapes.Select(s => RandomValues(random, Count(s), scale)).ToArray();
            for (var i = 0; i < parameters.Length; i++) parameters[i].grad = tensor(grads[i], Shapes[i], ScalarType.Float64);

            var norm = GradientClipping.ClipByGlobalNorm(parameters, maxNorm);
            optimizer.SetLearningRate(lr);
            optimizer.Step();

            var expectedNorm = ReferenceAdamW.Clip(grads, maxNorm);
            if (expectedNorm > maxNorm) clipped++;
            AssertRelative(expectedNorm, norm, $"gradient norm at step {step}");
            for (var i = 0; i < parameters.Length; i++)
            {
                reference.Step(expected[i], grads[i], lr);
                AssertClose(expected[i].Values, parameters[i].data<double>().ToArray(), $"parameter {i} after step {step}");
            }
        }
        Assert.InRange(clipped, 300, 400);
        for (var i = 0; i < parameters.Length; i++)
        {
            AssertClose(expected[i].M, optimizer.StateOf(i == 1 ? 1 : 0, i == 2 ? 1 : 0).ExpAvg.data<double>().ToArray(), $"m of {i}");
            Assert.Equal(1000, optimizer.StateOf(i == 1 ? 1 : 0, i == 2 ? 1 : 0).Step);
        }
    }

    [Fact]
    public void UpdatesAndCheckpointsExactlyAsTorchSharpsAdamW()
    {
        var random = new Random(99);
        var initial = Shapes.Select(s => RandomValues(random, Count(s), 1.0).Select(x => (float)x).ToArray()).ToArray();
        var ours = Shapes.Select((s, i) => new Parameter(tensor(initial[i], s))).ToArray();
        var theirs = Shapes.Select((s, i) => new Parameter(tensor(initial[i], s))).ToArray();
        using var optimizer = CreateOptimizer(ours, 1e-3, 0.9, 0.999, 1e-8, weightDecay: 0.01);
        using var torchSharp = torch.optim.AdamW(
            [
                new AdamW.ParamGroup([theirs[0], theirs[2]], 1e-3, 0.9, 0.999, 1e-8, 0.01, false, false),
                new AdamW.ParamGroup([theirs[1]], 1e-3, 0.9, 0.999, 1e-8, 0.0, false, false),
            ], 1e-3, 0.9, 0.999, 1e-8, 0.01);

        for (var step = 0; step < 6; step++)
        {
            var lr = 1e-3 * (step + 1) / 3;
            StepBoth(random, ours, theirs, optimizer, torchSharp, lr);
            for (var i = 0; i < ours.Length; i++) Assert.Equal(theirs[i].data<float>().ToArray(), ours[i].data<float>().ToArray());
        }

        var ourBytes = Checkpoint(optimizer.Save);
        var theirBytes = Checkpoint(torchSharp.save_state_dict);
        Assert.Equal(theirBytes, ourBytes);

        // a fresh optimizer resumes from TorchSharp's file and keeps pace with it
        using var resumed = CreateOptimizer(ours, 5.0, 0.5, 0.5, 1.0, weightDecay: 0.5);
        using (var reader = new BinaryReader(new MemoryStream(theirBytes))) resumed.Load(reader);
        StepBoth(random, ours, theirs, resumed, torchSharp, 2e-3);
        for (var i = 0; i < ours.Length; i++) Assert.Equal(theirs[i].data<float>().ToArray(), ours[i].data<float>().ToArray());
    }

    [Fact]
    public void RefusesStateOfAnotherShape()
    {
        var small = new[] { new Parameter(zeros(3)) };
        using var one = CreateOptimizer([.. small, new Parameter(zeros(2))], 1e-3, 0.9, 0.999, 1e-8, 0);
        using var other = CreateOptimizer([.. small, new Parameter(zeros(4))], 1e-3, 0.9, 0.999, 1e-8, 0);
        var bytes = Checkpoint(one.Save);
        using var reader = new BinaryReader(new MemoryStream(bytes));
        Assert.Throws<ArgumentException>(() => other.Load(reader));

        bytes[2] = (byte)'x';   // the "d" of the name "AdamW", after its length byte
        using var renamed = new BinaryReader(new MemoryStream(bytes));
        var e = Assert.Throws<InvalidDataException>(() => one.Load(renamed));
        Assert.Contains("'AxamW'", e.Message);
    }

    /// <summary>Decay group: parameters 0 and 2; no-decay group: parameter 1 (HF's grouping by name).</summary>
    private static AdamWOptimizer CreateOptimizer(IReadOnlyList<Parameter> p, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        var named = p.Select((x, i) => (i == 1 ? $"layer.{i}.bias" : $"layer.{i}.weight", x));
        return OptimizerFactory.CreateAdamW(named, new AdamWOptions(lr, beta1, beta2, eps, weightDecay));
    }

    private static void StepBoth(Random random, Parameter[] ours, Parameter[] theirs, AdamWOptimizer optimizer, AdamW torchSharp, double lr)
    {
        for (var i = 0; i < ours.Length; i++)
        {
            var g = RandomValues(random, ours[i].numel(), 1.0).Select(x => (float)x).ToArray();
            ours[i].grad = tensor(g, ours[i].shape);
            theirs[i].grad = tensor(g, theirs[i].shape);
        }
        optimizer.SetLearningRate(lr);
        foreach (var group in torchSharp.ParamGroups) group.LearningRate = lr;
        optimizer.Step();
        torchSharp.step();
    }

    private static byte[] Checkpoint(Action<BinaryWriter> save)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) save(writer);
        return stream.ToArray();
    }

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    private static double[] RandomValues(Random random, long count, double scale) =>
        [.. Enumerable.Range(0, (int)count).Select(_ => (random.NextDouble() * 2 - 1) * scale)];

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) AssertRelative(expected[i], actual[i], $"{what}[{i}]");
    }

    private static void AssertRelative(double expected, double actual, string what)
    {
        var error = Math.Abs(actual - expected);
        Assert.True(error <= 1e-6 * Math.Abs(expected) + 1e-12, $"{what}: {actual:R} vs {expected:R} (error {error:E2})");
    }
}
