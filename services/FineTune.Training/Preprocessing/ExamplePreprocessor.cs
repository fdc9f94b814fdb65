using FineTune.Data;
using FineTune.Models.Core.ChatTemplates;
using FineTune.Training.Sft;

namespace FineTune.Training.Preprocessing;

/// <summary>What became of one record: kept as it was, kept cut to max length, or dropped (over-long under the drop
/// policy, or nothing left to learn from).</summary>
public enum ExampleFate { Kept, Truncated, Dropped }

/// <summary>One record after <see cref="ExamplePreprocessor"/>: the example (null when dropped) and its fate.</summary>
public readonly record struct PreprocessedExample(TokenizedExample? Example, ExampleFate Fate);

/// <summary>
/// The one preprocessing step (docs/training.md, "Preprocessing: one path"): a conversation gets the system prompt when it
/// has none, is rendered with the model's chat template and tokenized with its loss mask (<see cref="ConversationEncoder"/>),
/// and is cut by <see cref="Fit"/>. The preprocess worker runs it for every record it writes to shards
/// (<see cref="PreprocessedShard"/>); <c>ft train</c> and the trainer run it in-process on a job's data files; the trainer
/// cuts rows to sft.max_seq_len with the same <see cref="Fit"/>. Packing is not done here: shards hold one example per
/// record, and <see cref="SftDataset"/> packs (best fit) when the job asks, because packing depends on the job (its
/// max_seq_len, and its seeded eval split, drawn over records before they are packed) and best fit needs a whole split.
/// </summary>
public sealed class ExamplePreprocessor(ConversationEncoder encoder, PreprocessOptions options)
{
    public ConversationEncoder Encoder => encoder;
    public PreprocessOptions Options => options;

    /// <summary>A canonical record as chat messages, without any system prompt added.</summary>
    public static IReadOnlyList<ChatMessage> ToChat(Conversation conversation) =>
        [.. conversation.Messages.Select(m => new ChatMessage(m.Role, m.Content))];

    /// <summary><paramref name="messages"/> with the system prompt in front when there is one and they have none.</summary>
    public IReadOnlyList<ChatMessage> WithSystemPrompt(IReadOnlyList<ChatMessage> messages)
    {
        if (options.SystemPrompt is not { } system || (messages.Count > 0 && messages[0].Role == Roles.System)) return messages;
        return [new ChatMessage(Roles.System, system), .. messages];
    }

    public PreprocessedExample Process(Conversation conversation) => Process(ToChat(conversation));

    /// <summary>System prompt, chat template, tokenizer and loss mask, then the length cut.</summary>
    public PreprocessedExample Process(IReadOnlyList<ChatMessage> messages)
    {
        var encoded = encoder.Encode(WithSystemPrompt(messages), options.TrainOnInputs);
        return Fit(new TokenizedExample(encoded.InputIds, encoded.LossMask), options.MaxLength, options.DropsOverLong);
    }

    /// <summary>Every conversation through <see cref="Process(IReadOnlyList{ChatMessage})"/>: the kept examples in order, and counts.</summary>
    public PreprocessedExamples ProcessAll(IEnumerable<IReadOnlyList<ChatMessage>> conversations)
    {
        var examples = new List<TokenizedExample>();
        int truncated = 0, dropped = 0;
        foreach (var conversation in conversations)
        {
            var result = Process(conversation);
            if (result.Fate == ExampleFate.Truncated) truncated++;
            if (result.Example is { } example) examples.Add(example);
            else dropped++;
        }
        return new PreprocessedExamples(examples, truncated, dropped);
    }

    /// <summary>
    /// The length cut: an example longer than <paramref name="maxLength"/> is dropped (<paramref name="dropOverLong"/>) or
    /// keeps its first maxLength tokens; an example left without a target after position 0 (nothing precedes position 0, so
    /// it is never predicted) is dropped. Idempotent: a kept example passes unchanged through the same cut again.
    /// </summary>
    public static PreprocessedExample Fit(TokenizedExample example, int maxLength, bool dropOverLong)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var fate = ExampleFate.Kept;
        if (example.Length > maxLength)
        {
            if (dropOverLong) return new PreprocessedExample(null, ExampleFate.Dropped);
            example = new TokenizedExample(example.InputIds[..maxLength], example.LossMask[..maxLength]);
            fate = ExampleFate.Truncated;
        }
        return example.LossMask.AsSpan(1).Contains(true)
            ? new PreprocessedExample(example, fate)
            : new PreprocessedExample(null, ExampleFate.Dropped);
    }
}
