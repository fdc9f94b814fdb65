namespace FineTune.Messaging;

/// <summary>Every Redis stream, consumer group and key shape of the system (the contract; documented in docs/streams.md).</summary>
public static class StreamNames
{
    /// <summary>Preprocess requests (dataset + model + options); group <see cref="PreprocessGroup"/>.</summary>
    public const string PreprocessRequests = "ft:preprocess:requests";
    public const string PreprocessGroup = "preprocessors";
    /// <summary>Shards ready: the manifest of a finished (or skipped: already there) preprocess request.</summary>
    public const string PreprocessReady = "ft:preprocess:ready";
    /// <summary>The front door's group on <see cref="PreprocessReady"/>: turns a job's ready shards into its train request.</summary>
    public const string JobRouterGroup = "jobs";

    /// <summary>Training jobs, one message per job; group <see cref="TrainGroup"/>.</summary>
    public const string TrainJobs = "ft:train:jobs";
    public const string TrainGroup = "trainers";

    /// <summary>Invitations to join a data-parallel job (jobId, generation, deadline); group <see cref="TrainJoinGroup"/> of idle trainers.</summary>
    public const string TrainJoin = "ft:train:join";
    public const string TrainJoinGroup = "members";
    /// <summary>Data-parallel group of a job: hash generation, coordinator, members (rank order), requested, status.</summary>
    public static string TrainGroupOf(string jobId) => $"ft:dp:{jobId}";
    /// <summary>Gradient exchange of one group generation: stream of (rank, step, g) entries.</summary>
    public static string TrainGradients(string jobId, long generation) => $"ft:dp:{jobId}:g{generation}:grads";
    /// <summary>List the replicas that accept an invitation push their instance id onto (the coordinator pops them in order).</summary>
    public static string TrainJoined(string jobId, long generation) => $"ft:dp:{jobId}:g{generation}:joined";
    /// <summary>List the coordinator pushes to when it takes a replica into the group (the member blocks on it).</summary>
    public static string TrainWelcome(string jobId, long generation, string instanceId) => $"ft:dp:{jobId}:g{generation}:welcome:{instanceId}";

    /// <summary>Export requests; group <see cref="ExportGroup"/>.</summary>
    public const string ExportRequests = "ft:export:requests";
    public const string ExportGroup = "exporters";

    /// <summary>Messages that failed <c>MaxAttempts</c> times: stream, id, group, consumer, error, stack, attempts, fields (JSON of the original fields).</summary>
    public const string DeadLetter = "ft:deadletter";

    /// <summary>Hash of one job: id, status, created, &lt;stage&gt;_started/_finished, replica, device, error, spec, artifacts, eval.</summary>
    public static string Job(string jobId) => $"ft:job:{jobId}";
    /// <summary>Sorted set of job ids by creation time.</summary>
    public const string Jobs = "ft:jobs";
    /// <summary>Training metrics of a job (MAXLEN ~ 10000).</summary>
    public static string JobMetrics(string jobId) => $"ft:job:{jobId}:metrics";
    /// <summary>Human-readable stage events of a job (kind, message, ts).</summary>
    public static string JobEvents(string jobId) => $"ft:job:{jobId}:events";
    /// <summary>Heartbeat hash of one replica, with a TTL.</summary>
    public static string Replica(string instanceId) => $"ft:replica:{instanceId}";

    /// <summary>Sorted set of dataset ids by creation time.</summary>
    public const string Datasets = "ft:datasets";
    /// <summary>Hash of one stored dataset: flat fields for people, <c>info</c> = the full JSON.</summary>
    public static string Dataset(string datasetId) => $"ft:dataset:{datasetId}";
    /// <summary>Set of the ids of jobs that use a dataset.</summary>
    public static string DatasetRefs(string datasetId) => $"ft:dataset:{datasetId}:refs";

    /// <summary>Attempt counters and last errors of messages being handled: hash, field <c>{stream}|{group}|{id}</c>.</summary>
    public const string Attempts = "ft:attempts";

    /// <summary>Trace-context field names every message carries (W3C Trace Context).</summary>
    public const string TraceParentField = "traceparent";
    public const string TraceStateField = "tracestate";
}
