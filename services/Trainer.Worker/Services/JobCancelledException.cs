namespace Trainer.Worker.Services;

/// <summary>The job was cancelled through its record (cancel_requested) while it trained.</summary>
public sealed class JobCancelledException(string jobId) : Exception($"job {jobId} was cancelled");
