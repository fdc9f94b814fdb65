using System.Diagnostics;
using FineTune.Models;
using FineTune.Models.Quantization;
using FineTune.Models.Tiny;
using FineTune.Training.Lora;
using FineTune.Training.Model;
using FineTune.Training.Sft;
using FineTune.Training.Training;
using TorchSharp;
using static TorchSharp.torch;
using FineTune.Models.Core;

namespace FineTune.Cli.Benchmarks;

/// <summary>
/// Training throughput and model-FLOPs utilisation of LoRA fine-tuning, against the same process's measured matmul peak.
/// <para>
/// FLOPs per trained token (stated, not measured): the frozen base matmuls cost 2·N forward + 2·N for the input
/// gradients (no weight gradients), so 4·N_frozen; the LoRA matrices cost the usual 6·N_lora; attention scores and
/// values cost 2·2·T·d per layer forward, halved by the causal mask and tripled for forward + backward: 6·L·T·d.
/// N_frozen counts every Linear weight including lm_head (the head runs on every token here; embeddings are lookups).
/// </para>
/// </summary>
public static class TrainingBenchmark
{
    public sealed record Result(
        string Preset, int Layers, int Hidden, int SeqLen, int BatchRows, int Threads, long FrozenMatmulParams, long LoraParams,
        double FlopsPerToken, double TokensPerSecond, double AchievedGflops, double PeakGflops, double Mfu, double SecondsPerStep,
        bool GradientCheckpointing, double RssBeforeStepMib, double PeakRssMib, double StepPeakMib,
        double CpuSecondsPerStep, TrainingStepProfile.Phases? Profile = null, double LoadSeconds = double.NaN, double RssAfterLoadMib = double.NaN, int RowThreads = 1);

    /// <param name="gradientCheckpointing">Recompute decoder-layer activations in backward (training.gradient_checkpointing).</param>
    /// <remarks>
    /// Memory is measured on the second step, before the timed ones (see <see cref="ProcessMemory"/>): RSS before it, the
    /// peak RSS during it, and their difference, the step's transient memory (activations kept for backward, gradients,
    /// workspaces). NaN where it cannot be measured (not Linux/glibc).
    /// </remarks>
    /// <param name="modelFolder">A Hugging Face folder to benchmark instead of the preset (e.g. one `ft init --config` wrote).</param>
    /// <param name="quantization">The frozen base's storage (lora.quantization): none, NF4 or int8.</param>
    /// <param name="dtype">The dtype the model is loaded in (F32 by default, as training on CPU loads it).</param>
    /// <param name="rowThreads">TrainingOptions.RowThreads: 0 = auto (rows split over the intra-op threads where that applies), 1 = one batch.</param>
    public static Result Run(string preset = "bench", int seqLen = 512, int batchRows = 2, int rank = 16, int warmupSteps = 2, int steps = 5,
        int threads = 0, bool gradientCheckpointing = false, string? modelFolder = null, BaseQuantization? quantization = null,
        ScalarType dtype = ScalarType.Float32, int rowThreads = 0)
    {
        if (threads > 0) torch.set_num_threads(threads);
        using var bench = BenchModel.Create(TinyModelPreset.Named(preset), modelFolder, seqLen, batchRows * (MemorySteps + warmupSteps + steps), rank,
            quantization ?? BaseQuantization.None, dtype);
        var (model, adapter, data) = (bench.Model, bench.Adapter, bench.Data);
        var c = model.Config;
        var peak = MatmulPeakGflops(batchRows * seqLen, c.HiddenSize, c.IntermediateSize);
        var frozen = FrozenMatmulParameters(c);
        var layers = c.NumHiddenLayers;
        var lora = adapter.TrainableParameters.Sum(x => x.numel());
        var flopsPerToken = 4.0 * frozen + 6.0 * lora + 6.0 * layers * seqLen * c.HiddenSize;

        var options = new TrainingOptions
        {
            MicroBatchSize = batchRows, GradientAccumulationSteps = 1, MaxSteps = MemorySteps + warmupSteps + steps, LearningRate = 1e-4,
            WarmupSteps = 0, LoggingSteps = 1, Seed = 0, GradientCheckpointing = gradientCheckpointing, RowThreads = rowThreads,
        };
        var effectiveRowThreads = RowParallelBackward.ThreadsFor(options, CPU, worldSize: 1);
        var trainer = new SftTrainer(adapter, data, null, options, padId: 0, CPU);
        var times = new List<double>();
        long? rssBefore = null;
        long peakRss = 0;
        var measureMemory = ProcessMemory.SeparateLargeAllocations();
        var (cpuMark, cpuTimed) = (0.0, 0.0);
        var clock = Stopwatch.StartNew();
        foreach (var e in trainer.RunAsync().ToBlockingEnumerable())
        {
            if (e is not StepRecord s) continue;
            if (s.Step == 1 && measureMemory) rssBefore = ProcessMemory.ResetPeak();
            if (s.Step == MemorySteps)
            {
                if (rssBefore is not null) peakRss = Math.Max(ProcessMemory.PeakResidentBytes(), rssBefore.Value);
                if (measureMemory) ProcessMemory.RestoreLargeAllocations();
            }
            if (s.Step > MemorySteps) times.Add(clock.Elapsed.TotalSeconds);
            if (s.Step > MemorySteps + warmupSteps) cpuTimed += ProcessCpuClock.Seconds() - cpuMark;
            // The peak is measured again between the timed steps (outside their clocks) and the best is kept: on a
            // shared machine a single measurement can fall low, which would inflate MFU.
            if (s.Step >= MemorySteps + warmupSteps) peak = Math.Max(peak, MatmulPeakGflops(batchRows * seqLen, c.HiddenSize, c.IntermediateSize));
            cpuMark = ProcessCpuClock.Seconds();
            clock.Restart();
        }
        var cpuPerStep = cpuTimed / steps;
        var measured = times.Skip(warmupSteps).ToList();
        var perStep = measured.Average();
        var tokensPerSecond = batchRows * seqLen / perStep;
        var achieved = tokensPerSecond * flopsPerToken / 1e9;
        return new Result(modelFolder is null ? preset : Path.GetFileName(Path.TrimEndingDirectorySeparator(modelFolder)), layers, c.HiddenSize, seqLen, batchRows, torch.get_num_threads(), frozen, lora, flopsPerToken,
            tokensPerSecond, achieved, peak, achieved / peak, perStep,
            gradientCheckpointing, rssBefore is { } before ? before / MiB : double.NaN, rssBefore is null ? double.NaN : peakRss / MiB,
            rssBefore is { } b ? (peakRss - b) / MiB : double.NaN, cpuPerStep, LoadSeconds: bench.LoadSeconds, RssAfterLoadMib: bench.RssAfterLoadMib,
            RowThreads: effectiveRowThreads);
    }

    private const double MiB = 1024.0 * 1024.0;

    /// <summary>Weights of every frozen matmul a token passes through: the attention and MLP projections and the head.</summary>
    private static long FrozenMatmulParameters(ModelConfig c)
    {
        long headDim = c.HiddenSize / c.NumAttentionHeads;
        long attention = c.HiddenSize * headDim * (2L * c.NumAttentionHeads + 2L * c.NumKeyValueHeads);
        long mlp = 3L * c.HiddenSize * c.IntermediateSize;
        return c.NumHiddenLayers * (attention + mlp) + (long)c.VocabSize * c.HiddenSize;
    }

    /// <summary>Steps before the timed ones: a warm-up, then the one whose memory is measured.</summary>
    private const int MemorySteps = 2;

    /// <summary>Best of several FP32 matmuls shaped like the model's MLP projections (M = tokens per step).</summary>
    public static double MatmulPeakGflops(int m, int k, int n, int repeats = 10)
    {
        using var scope = NewDisposeScope();
        var a = randn(m, k);
        var b = randn(k, n);
        a.matmul(b).Dispose();
        var best = double.MaxValue;
        for (var i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using var c = a.matmul(b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * m * k * n / best / 1e9;
    }

    /// <summary>The benchmark's model: a tiny preset written to a temp folder and loaded, LoRA on all 7 projections, random rows.</summary>
    internal sealed class BenchModel : IDisposable
    {
        private readonly string _folder = Path.Combine(Path.GetTempPath(), $"ft-bench-{Guid.NewGuid():N}");

        private readonly bool _ownsFolder;

        private BenchModel(TinyModelPreset preset, string? modelFolder, int seqLen, int rowCount, int rank, BaseQuantization quantization,
            ScalarType dtype)
        {
            _ownsFolder = modelFolder is null;
            if (modelFolder is null) TinyModel.Write(_folder, seed: 0, preset);
            var clock = Stopwatch.StartNew();
            Model = CausalLM.Load(modelFolder ?? _folder, quantization, CPU, dtype);   // nf4/int8: quantized on load
            Trainable = new CausalLMTrainable(Model);
            torch.manual_seed(0);
            Adapter = LoraInjector.Inject(Trainable, new LoraOptions { Rank = rank, Alpha = 2 * rank, Quantization = quantization });
            LoadSeconds = clock.Elapsed.TotalSeconds;
            RssAfterLoadMib = File.Exists("/proc/self/status") ? ProcessMemory.ResidentBytes() / MiB : double.NaN;
            var random = new Random(1);
            var rows = Enumerable.Range(0, rowCount).Select(_ =>
            {
                var ids = Enumerable.Range(0, seqLen).Select(_ => random.Next(Model.Config.VocabSize)).ToArray();
                return new TokenizedExample(ids, [.. ids.Select(_ => true)]);
            }).ToList();
            Data = SftDataset.Build(rows, new SftDataOptions { MaxSeqLen = seqLen });
        }

        public CausalLM Model { get; }
        public CausalLMTrainable Trainable { get; }
        public LoraAdapter Adapter { get; }
        public SftDataset Data { get; }

        /// <summary>Seconds to load the model and inject LoRA (quantizing included).</summary>
        public double LoadSeconds { get; }

        /// <summary>Resident memory right after loading and injection.</summary>
        public double RssAfterLoadMib { get; }

        public static BenchModel Create(TinyModelPreset preset, string? modelFolder, int seqLen, int rowCount, int rank, BaseQuantization quantization,
            ScalarType dtype = ScalarType.Float32) => new(preset, modelFolder, seqLen, rowCount, rank, quantization, dtype);

        public void Dispose()
        {
            Model.Dispose();
            if (!_ownsFolder) return;
            try { Directory.Delete(_folder, true); } catch (IOException) { }
        }
    }
}
