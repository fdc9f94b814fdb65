using FineTune.Training.Sft;

namespace FineTune.Training.Preprocessing;

/// <summary>The examples one split kept after <see cref="ExamplePreprocessor"/>, in record order, with how many were cut or dropped.</summary>
public sealed record PreprocessedExamples(List<TokenizedExample> Examples, long Truncated, long Dropped);
