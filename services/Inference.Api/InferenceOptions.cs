namespace Inference.Api;

/// <summary>Configuration section <c>Inference</c>; the data root is <c>FineTune:DataRoot</c>, shared with every service.</summary>
public sealed class InferenceOptions
{
    /// <summary>Most models kept loaded at once; the least recently used one is unloaded to make room.</summary>
    public int MaxLoadedModels { get; set; } = 2;

    /// <summary>Default and upper bound of <c>max_tokens</c> (a request asking for more is refused with 400).</summary>
    public int MaxTokensLimit { get; set; } = 2048;

    /// <summary>Default of <c>max_tokens</c> when the request gives none.</summary>
    public int DefaultMaxTokens { get; set; } = 256;
}
