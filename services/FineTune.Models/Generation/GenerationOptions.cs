namespace FineTune.Models.Generation;

/// <summary>How to pick tokens and when to stop. Defaults: sampling at temperature 1 with no truncation.</summary>
public sealed record GenerationOptions
{
    /// <summary>Tokens to generate at most per prompt.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Always take the most likely token (ignores temperature, top-k, top-p).</summary>
    public bool Greedy { get; init; }

    /// <summary>Divides logits before sampling; 0 means greedy.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Keep only the k most likely tokens; 0 = off.</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of tokens whose probability reaches p; 1 = off.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>HF/CTRL penalty on tokens already in the prompt or output: positive logits divided, negative multiplied; 1 = off.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>Token ids that end a sequence (not included in the text).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Strings that end a sequence; the text is cut before them. Needs a decoder.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Seed for sampling; null = nondeterministic.</summary>
    public long? Seed { get; init; }

    internal bool IsGreedy => Greedy || Temperature <= 0;

    internal void Validate()
    {
        if (MaxNewTokens < 0) throw new ArgumentException($"MaxNewTokens must be >= 0, got {MaxNewTokens}");
        if (Temperature < 0 || !double.IsFinite(Temperature)) throw new ArgumentException($"Temperature must be >= 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"TopK must be >= 0, got {TopK}");
        if (TopP is <= 0 or > 1) throw new ArgumentException($"TopP must be in (0, 1], got {TopP}");
        if (RepetitionPenalty <= 0) throw new ArgumentException($"RepetitionPenalty must be > 0, got {RepetitionPenalty}");
        if (StopStrings.Any(string.IsNullOrEmpty)) throw new ArgumentException("stop strings must be non-empty");
    }
}

/// <summary>Why a sequence ended: an end-of-sequence token, a stop string, or the token limit.</summary>
public enum FinishReason
{
    Eos,
    Stop,
    Length,
}

/// <summary>One prompt's output. <see cref="TokenIds"/> excludes the prompt and the EOS token.</summary>
public sealed record GenerationResult(int[] TokenIds, string? Text, FinishReason FinishReason);

/// <summary>
/// A token as it is produced; <see cref="TextDelta"/> is text now safe to show (held back while it may start a stop
/// string). When a sequence ends, text still held back arrives with <see cref="TokenId"/> = <see cref="Flush"/>.
/// EOS tokens are not reported.
/// </summary>
public sealed record GeneratedToken(int Sequence, int TokenId, string? TextDelta)
{
    public const int Flush = -1;
}

/// <summary>Throughput of one Generate call.</summary>
public sealed record GenerationStats(int PromptTokens, double PrefillSeconds, int GeneratedTokens, double DecodeSeconds)
{
    public double PrefillTokensPerSecond => PrefillSeconds > 0 ? PromptTokens / PrefillSeconds : 0;

    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? GeneratedTokens / DecodeSeconds : 0;
}
