using System.Diagnostics;
using FineTune.Models.Tiny;
using FineTune.Training.Optim;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FineTune.Cli.Benchmarks;

/// <summary>
/// Where one training step's time goes, by phase, on the benchmark model: the same calls as one SftTrainer step with
/// one micro-batch (collate, decoder forward, LM head + cross-entropy, backward, clip + AdamW + zero_grad), each timed
/// with a Stopwatch and with the process's CPU clock. libtorch runs CPU ops synchronously, so each section's time is
/// that phase's work; on a shared machine the CPU seconds are the steadier figure.
/// </summary>
public static class TrainingStepProfile
{
    /// <summary>Mean seconds per step of each phase over the measured steps: wall time, and process CPU time.</summary>
    public sealed record Phases(double Data, double Forward, double Loss, double Backward, double Optimizer, PhaseCpu Cpu)
    {
        public double Total => Data + Forward + Loss + Backward + Optimizer;
    }

    /// <summary>Mean CPU seconds per step of each phase (all threads of the process).</summary>
    public sealed record PhaseCpu(double Data, double Forward, double Loss, double Backward, double Optimizer)
    {
        public double Total => Data + Forward + Loss + Backward + Optimizer;
    }

    public static Phases Run(string preset = "bench", int seqLen = 512, int batchRows = 2, int rank = 16, int warmupSteps = 2, int steps = 5,
        int threads = 0, bool gradientCheckpointing = false)
    {
        if (threads > 0) torch.set_num_threads(threads);
        using var bench = TrainingBenchmark.BenchModel.Create(TinyModelPreset.Named(preset), null, seqLen, batchRows * (warmupSteps + steps), rank, FineTune.Models.Quantization.BaseQuantization.None);
        var (model, trainable, adapter, data) = (bench.Model, bench.Trainable, bench.Adapter, bench.Data);
        trainable.SetGradientCheckpointing(gradientCheckpointing);
        model.train();
        var options = new TrainingOptions { LearningRate = 1e-4 };
        using var optimizer = OptimizerFactory.CreateAdamW(adapter.NamedTrainableParameters.Select(p => (p.Key, p.Param)), options.AdamW);
        var parameters = adapter.TrainableParameters.ToList();
        var order = new MicroBatchOrder(data.Rows.Count, batchRows, seed: 0);

        var totals = new double[5];
        var cpuTotals = new double[5];
        var clock = new Stopwatch();
        var cpu = 0.0;
        for (var step = 0; step < warmupSteps + steps; step++)
        {
            var times = new double[5];
            var cpuTimes = new double[5];
            using var scope = NewDisposeScope();
            void Lap(int phase)
            {
                times[phase] = clock.Elapsed.TotalSeconds;
                var now = ProcessCpuClock.Seconds();
                cpuTimes[phase] = now - cpu;
                cpu = now;
                clock.Restart();
            }

            cpu = ProcessCpuClock.Seconds();
            clock.Restart();
            var rows = order.RowsOf(step).Select(r => data.Rows[r]).ToList();
            using var batch = SftBatch.Collate(rows, padId: 0, CPU);
            Lap(0);
            var hidden = trainable.ForwardHidden(batch.InputIds, batch.PositionIds, batch.SegmentIds);
            Lap(1);
            var sum = CausalLmLoss.SumFromHidden(trainable, hidden, batch);
            using var labelTokens = batch.LabelTokens.ToScalar();
            var loss = sum.div(labelTokens);
            _ = sum.item<float>();
            Lap(2);
            loss.backward();
            Lap(3);
            GradientClipping.ClipByGlobalNorm(parameters, 1.0);
            optimizer.Step();
            optimizer.ZeroGrad();
            Lap(4);
            if (step >= warmupSteps)
                for (var i = 0; i < totals.Length; i++)
                {
                    totals[i] += times[i];
                    cpuTotals[i] += cpuTimes[i];
                }
        }
        var c = cpuTotals.Select(t => t / steps).ToArray();
        return new Phases(totals[0] / steps, totals[1] / steps, totals[2] / steps, totals[3] / steps, totals[4] / steps,
            new PhaseCpu(c[0], c[1], c[2], c[3], c[4]));
    }
}
