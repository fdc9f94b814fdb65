namespace FineTune.Training.Sft;

/// <summary>
/// One training example as token ids and a loss mask (true = this token is a target, e.g. assistant tokens and their
/// end-of-turn token). What ExamplePreprocessor gives, in-process or through the preprocess shards.
/// </summary>
public sealed record TokenizedExample(int[] InputIds, bool[] LossMask)
{
    public int Length => InputIds.Length;
}
