using FineTune.Contracts.Optim;
using FineTune.Training.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Optim.Soak;

/// <summary>
/// One short training job: LoRA-shaped parameters (A, B, a bias), gradients drawn from a seeded .NET Random, global-norm
/// clipping, the warmup + cosine schedule, and an await after every step so the job hops between thread-pool threads.
/// The result is the final parameters' bytes: a job with the same seed must end bit-identical to a quiet run of it.
/// </summary>
internal static class SoakJob
{
    private static readonly long[][] Shapes = [[8, 128], [128, 8], [128]];

    public static async Task<byte[]> RunAsync(OptimizerKind kind, int seed, int steps, bool hopThreads)
    {
        var random = new Random(seed);
        var parameters = Shapes.Select(s => new Parameter(tensor(Values(random, s, 0.1), s))).ToArray();
        try
        {
            using var optimizer = Steppers.Create(kind, parameters, weightDecay: 0.01);
            var schedule = new LrSchedule(LrScheduleKind.Cosine, PeakLr: 1e-3, WarmupSteps: steps / 10, TotalSteps: steps);
            for (var step = 0; step < steps; step++)
            {
                using (var scope = NewDisposeScope())
                {
                    foreach (var p in parameters) p.grad = tensor(Values(random, p.shape, step % 4 == 0 ? 10.0 : 0.01), p.shape);
                    GradientClipping.ClipByGlobalNorm(parameters, 1.0);
                    optimizer.Step(schedule.At(step));
                    optimizer.ZeroGrad();
                }
                if (hopThreads) await Task.Yield();
            }
            return [.. parameters.SelectMany(p => p.bytes.ToArray())];
        }
        finally
        {
            foreach (var p in parameters) p.Dispose();
        }
    }

    private static float[] Values(Random random, long[] shape, double scale) =>
        [.. Enumerable.Range(0, (int)shape.Aggregate(1L, (a, b) => a * b)).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale))];
}
