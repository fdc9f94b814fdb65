using FineTune.Contracts.Optim;
using FineTune.Training.Optim;

namespace FineTune.Training.Training;

/// <summary>The optimisation loop's hyper-parameters (HF TrainingArguments names in the docs; defaults from the seeds).</summary>
public sealed record TrainingOptions
{
    /// <summary>Rows per forward/backward pass (per_device_train_batch_size).</summary>
    public int MicroBatchSize { get; init; } = 2;

    /// <summary>Micro-batches per optimizer step (gradient_accumulation_steps).</summary>
    public int GradientAccumulationSteps { get; init; } = 4;

    /// <summary>Passes over the data when MaxSteps is not set (num_train_epochs).</summary>
    public double Epochs { get; init; } = 3;

    /// <summary>Optimizer steps; overrides Epochs when &gt; 0 (max_steps).</summary>
    public int MaxSteps { get; init; }

    public double LearningRate { get; init; } = 2e-4;

    public LrScheduleKind LrScheduler { get; init; } = LrScheduleKind.Linear;

    public int WarmupSteps { get; init; } = 5;

    public double WeightDecay { get; init; }

    public double AdamBeta1 { get; init; } = 0.9;

    public double AdamBeta2 { get; init; } = 0.999;

    public double AdamEpsilon { get; init; } = 1e-8;

    /// <summary>Clip the global gradient norm to this value; 0 disables clipping (the norm is still reported).</summary>
    public double MaxGradNorm { get; init; } = 1.0;

    /// <summary>Seeds torch (LoRA init, dropout) and the data order.</summary>
    public int Seed { get; init; } = 3407;

    /// <summary>Emit a step record every N optimizer steps.</summary>
    public int LoggingSteps { get; init; } = 1;

    /// <summary>Evaluate every N steps (0 = only at the end).</summary>
    public int EvalSteps { get; init; }

    /// <summary>Checkpoint every N steps (0 = only at the end, unless SaveFraction or SaveInterval say more often).</summary>
    public int SaveSteps { get; init; }

    /// <summary>Checkpoint at least every this fraction of the run's steps (0 = no such rule), so one failure repeats at most that much.</summary>
    public double SaveFraction { get; init; }

    /// <summary>Checkpoint at least this often in training time (zero = no such rule).</summary>
    public TimeSpan SaveInterval { get; init; }

    /// <summary>Keep at most this many checkpoints (0 = keep all).</summary>
    public int SaveTotalLimit { get; init; }

    /// <summary>Bit-reproducible CPU run: one intra-op thread and the seed (TorchSharp 0.107 lacks use_deterministic_algorithms).</summary>
    public bool Deterministic { get; init; }

    /// <summary>Torch intra-op threads (0 = libtorch's default).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// On CPU, split each micro-batch's rows over this many threads of one intra-op thread each (0 = as many as torch's
    /// intra-op threads; 1 = off). Applies only without gradient checkpointing, in one process, with micro-batches of
    /// 2 rows or more (<see cref="RowParallelBackward"/>); elsewhere the batch runs as one.
    /// </summary>
    public int RowThreads { get; init; }

    /// <summary>
    /// Recompute each decoder layer's activations in the backward pass instead of keeping them (gradient_checkpointing):
    /// less memory, about one more forward pass of compute. The result is the same as without it.
    /// </summary>
    public bool GradientCheckpointing { get; init; }

    public AdamWOptions AdamW => new(LearningRate, AdamBeta1, AdamBeta2, AdamEpsilon, WeightDecay);
}
