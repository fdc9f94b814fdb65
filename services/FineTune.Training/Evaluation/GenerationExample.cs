namespace FineTune.Training.Evaluation;

/// <summary>A prompt (already rendered and tokenized up to the assistant's turn) and the answer expected.</summary>
public sealed record GenerationExample(int[] PromptIds, string Expected);
