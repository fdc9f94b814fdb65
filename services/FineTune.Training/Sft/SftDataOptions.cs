namespace FineTune.Training.Sft;

/// <summary>How examples become training rows.</summary>
public sealed record SftDataOptions
{
    /// <summary>Longest row in tokens; longer examples are truncated (their start is kept) and counted.</summary>
    public int MaxSeqLen { get; init; } = 1024;

    /// <summary>Pack several examples into one row of up to MaxSeqLen tokens (segment ids keep them apart).</summary>
    public bool Packing { get; init; }

    /// <summary>Compute the loss on every token, prompts included (the mask is ignored).</summary>
    public bool TrainOnInputs { get; init; }
}
