using FineTune.Training.Sft;

namespace FineTune.Training.Tests;

/// <summary>Small synthetic tokenized examples: a prompt (masked) then an answer (labelled) ending with EOS.</summary>
internal static class TestData
{
    public const int Eos = 2;

    public static TokenizedExample Example(int[] prompt, int[] answer, int eos = Eos)
    {
        int[] ids = [.. prompt, .. answer, eos];
        bool[] mask = [.. prompt.Select(_ => false), .. answer.Select(_ => true), true];
        return new TokenizedExample(ids, mask);
    }

    /// <summary><paramref name="count"/> examples over a vocabulary of <paramref name="vocab"/>, lengths varying, seeded.</summary>
    public static List<TokenizedExample> Random(int count, int vocab, int seed, int minPrompt = 2, int maxPrompt = 7, int minAnswer = 1, int maxAnswer = 6)
    {
        var random = new Random(seed);
        var list = new List<TokenizedExample>();
        for (var i = 0; i < count; i++)
        {
            var prompt = Enumerable.Range(0, random.Next(minPrompt, maxPrompt + 1)).Select(_ => random.Next(3, vocab)).ToArray();
            var answer = Enumerable.Range(0, random.Next(minAnswer, maxAnswer + 1)).Select(_ => random.Next(3, vocab)).ToArray();
            list.Add(Example(prompt, answer));
        }
        return list;
    }
}
