namespace FineTune.Training.Sft;

/// <summary>
/// One training example as token ids and a loss mask (true = this token is a target, e.g. assistant tokens and their
/// end-of-turn token). The same shape ConversationEncoder returns and the preprocess shards store.
/// </summary>
public sealed record TokenizedExample(int[] InputIds, bool[] LossMask)
{
    public int Length => InputIds.Length;

    /// <summary>Throws when ids and mask disagree in length.</summary>
    public TokenizedExample Validate(string source)
    {
        if (InputIds.Length != LossMask.Length)
            throw new InvalidDataException($"{source}: input_ids has {InputIds.Length} tokens but loss_mask has {LossMask.Length}");
        return this;
    }
}
