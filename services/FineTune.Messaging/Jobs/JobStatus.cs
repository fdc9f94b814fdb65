namespace FineTune.Messaging.Jobs;

/// <summary>The status words of a job (field <c>status</c> of <c>ft:job:{id}</c>), in pipeline order.</summary>
public static class JobStatus
{
    public const string Queued = "queued";
    public const string Preprocessing = "preprocessing";
    public const string Training = "training";
    public const string Exporting = "exporting";
    public const string Done = "done";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static bool IsFinal(string? status) => status is Done or Failed or Cancelled;
}
