namespace FineTune.Data;

/// <summary>Counts a conversation's tokens exactly (a real tokenizer and chat template) for the over-long check.</summary>
public interface ITokenCounter
{
    int Count(Conversation conversation);
}

/// <summary>
/// A tokenizer-free estimate used for stats and, when no <see cref="ITokenCounter"/> is given, for over-long warnings:
/// ASCII text ≈ 4 characters per token, any other character (CJK…) ≈ 1 token, plus 4 tokens of template per message.
/// It tends to over-count for Chinese with large vocabularies (Qwen) and is within ~±25 % for English BPE vocabularies.
/// </summary>
public static class TokenEstimate
{
    public const int PerMessageOverhead = 4;

    public static int Of(Conversation conversation)
    {
        long total = 0;
        foreach (var m in conversation.Messages)
        {
            long ascii = 0, other = 0;
            foreach (var c in m.Content)
            {
                if (c < 128) ascii++;
                else if (!char.IsLowSurrogate(c)) other++;
            }
            total += (ascii + 3) / 4 + other + PerMessageOverhead;
        }
        return (int)Math.Min(total, int.MaxValue);
    }
}
