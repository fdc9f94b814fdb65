namespace FineTune.Contracts.Jobs;

/// <summary>An invalid job file; the message names the file and the field.</summary>
public sealed class TrainingJobException(string message, Exception? inner = null) : Exception(message, inner);
