using System.Text.Json.Serialization;

namespace FineTune.Training.Training;

/// <summary>What a training run reports as it goes: step records, evaluations and checkpoints.</summary>
public abstract record TrainingEvent(int Step);

/// <summary>One optimizer step: mean loss per label token, the learning rate used, the gradient norm before clipping.</summary>
public sealed record StepRecord(
    int Step, int TotalSteps, double Epoch, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, double EtaSeconds, long Tokens) : TrainingEvent(Step)
{
    /// <summary>Data-parallel runs: seconds this member spent in the gradient exchange (waiting for the others included); 0 alone.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double SyncSeconds { get; init; }
}

/// <summary>Held-out loss, perplexity (exp of the loss per label token) and task metrics.</summary>
public sealed record EvalRecord(
    int Step, double Epoch, double EvalLoss, double EvalPerplexity, IReadOnlyDictionary<string, double> Metrics) : TrainingEvent(Step);

/// <summary>A checkpoint written (atomically) at <see cref="Path"/>.</summary>
public sealed record CheckpointRecord(int Step, string Path) : TrainingEvent(Step);
