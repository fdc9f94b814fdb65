using FineTune.Training.Training;

namespace FineTune.Training.Checkpoints;

/// <summary>
/// Everything besides tensors that a run needs to continue exactly where it stopped: the step, the data cursor,
/// torch's RNG state, and the records so far. Stored as trainer_state.json in each checkpoint.
/// </summary>
public sealed record TrainerState
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Optimizer steps completed.</summary>
    public int GlobalStep { get; init; }

    /// <summary>Total optimizer steps of the run.</summary>
    public int TotalSteps { get; init; }

    /// <summary>Global index of the next micro-batch to read.</summary>
    public long MicroBatchCursor { get; init; }

    /// <summary>Seed of the data order (must match on resume).</summary>
    public int Seed { get; init; }

    /// <summary>The state (base64) of the generator the run's dropout draws from (the job's own on CPU, torch's CPU
    /// generator otherwise), so that a resumed run continues the same stream.</summary>
    public string RngState { get; init; } = "";

    /// <summary>Fingerprint of the hyper-parameters that shape the run; a resume with different ones is refused.</summary>
    public string RunFingerprint { get; init; } = "";

    public List<StepRecord> Steps { get; init; } = [];

    public List<EvalRecord> Evals { get; init; } = [];
}
