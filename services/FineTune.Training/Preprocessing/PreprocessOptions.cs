using FineTune.Contracts.Jobs;
using FineTune.Training.Jobs;

namespace FineTune.Training.Preprocessing;

/// <summary>
/// How <see cref="ExamplePreprocessor"/> turns conversations into tokenized examples: the system prompt added to records that
/// have none, the loss mask (assistant turns only, or every token), and the length cut (truncate or drop records over
/// <see cref="MaxLength"/>). The preprocess worker builds these from its request; a job's own data uses <see cref="ForJob"/>.
/// </summary>
public sealed record PreprocessOptions
{
    /// <summary>The over-long policies: keep the first MaxLength tokens, or skip the record.</summary>
    public const string Truncate = "truncate", Drop = "drop";

    /// <summary>Longest example in tokens (<see cref="int.MaxValue"/>: no cut).</summary>
    public int MaxLength { get; init; } = int.MaxValue;

    /// <summary><see cref="Truncate"/> or <see cref="Drop"/>.</summary>
    public string OverLong { get; init; } = Truncate;

    /// <summary>Train on every token (prompt included) instead of assistant turns only.</summary>
    public bool TrainOnInputs { get; init; }

    /// <summary>System prompt inserted before the first message of a record that has no system message (null: none).</summary>
    public string? SystemPrompt { get; init; }

    public bool DropsOverLong => OverLong == Drop;

    /// <summary>
    /// A job's data as its job asks (the same options the job path's preprocess request carries): uncut, because the trainer
    /// cuts to sft.max_seq_len when it builds rows, so one set of shards serves any max_seq_len.
    /// </summary>
    public static PreprocessOptions ForJob(TrainingJob job) => new()
    {
        TrainOnInputs = job.Sft.TrainOnInputs,
        SystemPrompt = job.Sft.SystemPrompt,
    };
}
