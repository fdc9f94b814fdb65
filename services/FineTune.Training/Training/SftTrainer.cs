using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FineTune.Models;
using FineTune.Training.Checkpoints;
using FineTune.Training.Evaluation;
using FineTune.Training.Lora;
using FineTune.Training.Optim;
using FineTune.Training.Parallel;
using FineTune.Training.Peft;
using FineTune.Training.Sft;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FineTune.Training.Training;

/// <summary>
/// Supervised fine-tuning of a LoRA adapter: AdamW, warmup + schedule, gradient accumulation with the loss normalised by
/// the label tokens of the whole accumulated batch, gradient-norm clipping, evaluation and checkpoints every N steps.
/// <see cref="RunAsync"/> streams <see cref="TrainingEvent"/>s; the work runs on the consumer's thread as it iterates.
/// Data-parallel: with a <see cref="GradientSync"/> of K members, member r runs micro-batches r, r+K, … of each global batch
/// and the members' gradient sums are added (in rank order) before clipping and the optimizer step, so K members train the
/// same run as one replica with the same global batch; only rank 0 evaluates and writes checkpoints.
/// </summary>
public sealed class SftTrainer
{
    private readonly LoraAdapter _adapter;
    private readonly SftDataset _train;
    private readonly SftDataset? _eval;
    private readonly TrainingOptions _options;
    private readonly IReadOnlyList<ITaskMetric> _metrics;
    private readonly CheckpointStore? _checkpoints;
    private readonly PeftAdapterMetadata _metadata;
    private readonly int _padId;
    private readonly Device _device;
    private readonly MicroBatchOrder _order;
    private readonly AdamWOptimizer _optimizer;
    private readonly LrSchedule _schedule;
    private readonly CheckpointCadence _cadence;
    private readonly Generator? _random;
    private TrainerState _state;

    /// <param name="gradientSync">How the members of a data-parallel group exchange gradients; null: one replica
    /// (<see cref="LocalGradientSync"/>).</param>
    /// <param name="random">On CPU, the generator the run's LoRA dropout masks are drawn from, its state saved in every
    /// checkpoint: the job's own (the one its lora_A were drawn from), so that the masks depend on the seed alone and not
    /// on other work in the process; null: a new one seeded with <see cref="TrainingOptions.Seed"/>. On other devices
    /// dropout draws from torch's generator for the device.</param>
    public SftTrainer(
        LoraAdapter adapter, SftDataset train, SftDataset? eval, TrainingOptions options, int padId, Device device,
        string? checkpointDirectory = null, PeftAdapterMetadata? metadata = null, IReadOnlyList<ITaskMetric>? metrics = null,
        IGradientSync? gradientSync = null, Generator? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MicroBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.GradientAccumulationSteps, 1);
        if (train.Rows.Count == 0) throw new ArgumentException("The training set has no usable example", nameof(train));
        _adapter = adapter;
        _train = train;
        _eval = eval is { Rows.Count: > 0 } ? eval : null;
        _options = options;
        _padId = padId;
        _device = device;
        _metrics = metrics ?? [];
        GradientSync = gradientSync ?? LocalGradientSync.Instance;
        _metadata = metadata ?? new PeftAdapterMetadata(null);
        _checkpoints = checkpointDirectory is null ? null : new CheckpointStore(checkpointDirectory);
        adapter.Model.SetGradientCheckpointing(options.GradientCheckpointing);
        _order = new MicroBatchOrder(train.Rows.Count, options.MicroBatchSize, options.Seed);
        TotalSteps = options.MaxSteps > 0
            ? options.MaxSteps
            : Math.Max(1, (int)Math.Ceiling(options.Epochs * _order.MicroBatchesPerEpoch / options.GradientAccumulationSteps));
        _schedule = new LrSchedule(options.LrScheduler, options.LearningRate, options.WarmupSteps, TotalSteps);
        _cadence = new CheckpointCadence(options.SaveSteps, options.SaveFraction, options.SaveInterval, TotalSteps);
        _optimizer = OptimizerFactory.CreateAdamW(adapter.NamedTrainableParameters.Select(p => (p.Key, p.Param)), options.AdamW);
        _state = new TrainerState { TotalSteps = TotalSteps, Seed = options.Seed, RunFingerprint = Fingerprint() };
        _random = device.type != DeviceType.CPU ? null : random ?? new Generator((ulong)options.Seed, CPU);
    }

    public int TotalSteps { get; }

    /// <summary>When checkpoints are written (save_steps, save_fraction, save_minutes).</summary>
    public CheckpointCadence Cadence => _cadence;

    public TrainerState State => _state;

    public AdamWOptimizer Optimizer => _optimizer;

    /// <summary>How the members of a data-parallel group exchange gradients (given at construction).</summary>
    public IGradientSync GradientSync { get; }

    /// <summary>Rank 0 evaluates and writes checkpoints; the other members of a group only train.</summary>
    public bool IsCoordinator => GradientSync.Rank == 0;

    /// <summary>Continues from <paramref name="checkpoint"/> (a checkpoint-N folder): adapter, optimizer, RNG, data cursor, records.</summary>
    public void ResumeFrom(string checkpoint)
    {
        var state = CheckpointStore.Restore(checkpoint, _adapter, _optimizer);
        if (state.RunFingerprint != _state.RunFingerprint)
            throw new InvalidOperationException($"{checkpoint} was written by a run with other hyper-parameters or data ({state.RunFingerprint} vs {_state.RunFingerprint}); resume it with the same job");
        if (state.RngState.Length > 0)
        {
            using var rng = tensor(Convert.FromBase64String(state.RngState), ScalarType.Byte);
            if (_random is null) torch.random.set_rng_state(rng);
            else _random.set_state(rng);
        }
        _state = state;
        _cadence.Saved();
    }

    /// <summary>Resumes from the newest checkpoint in the checkpoint directory, if any. Returns its path.</summary>
    public string? ResumeFromLatest()
    {
        var latest = _checkpoints?.Latest();
        if (latest is not null) ResumeFrom(latest);
        return latest;
    }

    public async IAsyncEnumerable<TrainingEvent> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        _adapter.Model.Module.train();
        var parameters = _adapter.TrainableParameters.ToList();
        var clock = Stopwatch.StartNew();
        var stepsThisSession = 0;

        while (_state.GlobalStep < TotalSteps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var record = await StepAsync(parameters, clock, ++stepsThisSession, cancellationToken);
            var last = _state.GlobalStep == TotalSteps;
            if (last || _options.LoggingSteps <= 1 || _state.GlobalStep % _options.LoggingSteps == 0)
                yield return record;

            if (!IsCoordinator) continue;   // members only train; the coordinator evaluates and checkpoints

            if (last || (_options.EvalSteps > 0 && _state.GlobalStep % _options.EvalSteps == 0))
            {
                var eval = Evaluate(cancellationToken);
                if (eval is not null)
                {
                    _state.Evals.Add(eval);
                    yield return eval;
                }
            }

            if (_checkpoints is not null && (last || _cadence.IsDue(_state.GlobalStep)))
            {
                var path = SaveCheckpoint();
                yield return new CheckpointRecord(_state.GlobalStep, path);
            }
        }
    }

    /// <summary>The rows of global micro-batch <paramref name="index"/>, in the order they are collated (the seeded order).</summary>
    public IReadOnlyList<SftSequence> MicroBatch(long index) => [.. _order.RowsOf(index).Select(r => _train.Rows[r])];

    /// <summary>
    /// One optimizer step = GradientAccumulationSteps micro-batches; the loss of each is Σ CE / (label tokens of all of them).
    /// Every member counts the label tokens of the whole global batch, and runs its own share of the micro-batches; the
    /// members' gradient sums are added before clipping. Advances the state and returns the step's record.
    /// </summary>
    private async Task<StepRecord> StepAsync(List<Parameter> parameters, Stopwatch clock, int stepsThisSession, CancellationToken cancellationToken)
    {
        var stepStart = clock.Elapsed;
        var step = _state.GlobalStep;
        var lr = _schedule.At(step);
        _optimizer.SetLearningRate(lr);

        var micro = Enumerable.Range(0, _options.GradientAccumulationSteps).Select(i => MicroBatch(_state.MicroBatchCursor + i)).ToList();
        var labelTokens = micro.Sum(rows => rows.Sum(r => r.LabelCount));
        var (lossSum, tokens) = AccumulateGradients(micro, labelTokens);
        var syncSeconds = 0.0;
        if (GradientSync.WorldSize > 1)
        {
            var syncStart = clock.Elapsed;
            var total = await GradientSync.AllReduceAsync(step, new GradientShard(FlattenGradients(parameters), lossSum, tokens), cancellationToken);
            SetGradients(parameters, total.Gradients);
            (lossSum, tokens) = (total.LossSum, total.Tokens);
            syncSeconds = (clock.Elapsed - syncStart).TotalSeconds;
        }
        var gradNorm = GradientClipping.ClipByGlobalNorm(parameters, _options.MaxGradNorm);
        _optimizer.Step();

        var cursor = _state.MicroBatchCursor + _options.GradientAccumulationSteps;
        _state = _state with { GlobalStep = step + 1, MicroBatchCursor = cursor };
        var elapsed = (clock.Elapsed - stepStart).TotalSeconds;
        var perStep = clock.Elapsed.TotalSeconds / stepsThisSession;
        var record = new StepRecord(
            step + 1, TotalSteps, _order.EpochAt(cursor), lossSum / labelTokens, lr, gradNorm,
            elapsed > 0 ? tokens / elapsed : 0, perStep * (TotalSteps - step - 1), tokens) { SyncSeconds = syncSeconds };
        _state.Steps.Add(record);
        return record;
    }

    /// <summary>Forward and backward of this member's micro-batches (r, r+K, …): gradients summed, loss sum and real tokens returned.</summary>
    private (double LossSum, long Tokens) AccumulateGradients(List<IReadOnlyList<SftSequence>> micro, int labelTokens)
    {
        using var lossDenominator = labelTokens.ToScalar();   // owned here, so no finalizer frees it while div reads it
        using var masks = _random is null ? null : DropoutGenerator.Use(_random);
        long tokens = 0;
        double lossSum = 0;
        _optimizer.ZeroGrad();
        var rowThreads = RowParallelBackward.ThreadsFor(_options, _device, GradientSync.WorldSize);
        if (rowThreads > 1)
            return RowParallelBackward.Accumulate(_adapter.Model, micro, rowThreads, labelTokens, _padId, _device, [.. _adapter.TrainableParameters],
                dropout: _adapter.Options.Dropout > 0);
        for (var i = GradientSync.Rank; i < micro.Count; i += GradientSync.WorldSize)
        {
            using var scope = NewDisposeScope();
            using var batch = SftBatch.Collate(micro[i], _padId, _device);
            var sum = CausalLmLoss.Sum(_adapter.Model, batch);
            sum.div(lossDenominator).backward();
            lossSum += sum.item<float>();
            tokens += batch.RealTokens;
        }
        return (lossSum, tokens);
    }

    /// <summary>Held-out loss/perplexity and the task metrics on the model as it is now; null when there is nothing to evaluate.</summary>
    public EvalRecord? Evaluate(CancellationToken cancellationToken = default)
    {
        if (_eval is null && _metrics.Count == 0) return null;
        var (loss, ppl) = _eval is null ? (double.NaN, double.NaN)
            : HeldOutLoss.Compute(_adapter.Model, _eval, _options.MicroBatchSize, _padId, _device);
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var metric in _metrics) scores[metric.Name] = metric.Compute(_adapter.Model, cancellationToken);
        return new EvalRecord(_state.GlobalStep, _order.EpochAt(_state.MicroBatchCursor), loss, ppl, scores);
    }

    /// <summary>Writes a checkpoint of the state now (between steps), e.g. when the process is asked to stop.</summary>
    public string SaveCheckpoint()
    {
        using var rng = _random?.get_state() ?? torch.random.get_rng_state();
        _state = _state with { RngState = Convert.ToBase64String(rng.bytes) };
        var path = _checkpoints!.Save(_state, _adapter, _optimizer, _metadata);
        _checkpoints.Prune(_options.SaveTotalLimit);
        _cadence.Saved();
        return path;
    }

    /// <summary>The gradients of <paramref name="parameters"/>, in order, as one FP32 vector (zeros for a parameter without one).</summary>
    private static float[] FlattenGradients(IReadOnlyList<Parameter> parameters)
    {
        using var scope = NewDisposeScope();
        var flat = cat(parameters.Select(p => p.grad is { } g ? g.detach().to(ScalarType.Float32).flatten() : zeros(p.numel())).ToList());
        return flat.cpu().data<float>().ToArray();
    }

    /// <summary>Replaces the gradients of <paramref name="parameters"/> by consecutive slices of <paramref name="values"/>.</summary>
    private void SetGradients(IReadOnlyList<Parameter> parameters, float[] values)
    {
        using var scope = NewDisposeScope();
        var all = tensor(values).to(_device);
        long offset = 0;
        foreach (var p in parameters)
        {
            var n = p.numel();
            var slice = all.narrow(0, offset, n).view(p.shape);
            if (p.grad is { } g) g.copy_(slice);
            else p.grad = slice.to(p.dtype).clone().MoveToOuterDisposeScope();
            offset += n;
        }
        if (offset != values.Length)
            throw new InvalidOperationException($"the reduced gradients hold {values.Length} values, the adapter has {offset} trainable ones");
    }

    /// <summary>What must be equal for a checkpoint to continue this run: data, order and optimisation hyper-parameters.</summary>
    private string Fingerprint()
    {
        var o = _options;
        var shape = new
        {
            rows = _train.Rows.Count, labels = _train.LabelTokens, o.MicroBatchSize, o.GradientAccumulationSteps, TotalSteps, o.Seed,
            o.LearningRate, o.LrScheduler, o.WarmupSteps, o.WeightDecay, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.MaxGradNorm,
            lora = new { _adapter.Options.Rank, _adapter.Options.Alpha, _adapter.Options.Dropout, targets = _adapter.Layers.Count, _adapter.Options.UseRsLora },
        };
        var bytes = System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(shape));
        return Convert.ToHexString(bytes, 0, 8).ToLowerInvariant();
    }
}
