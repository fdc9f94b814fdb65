namespace FineTune.Messaging;

/// <summary>Tuning of a <see cref="StreamWorker"/>. Defaults suit long jobs; tests shorten the times.</summary>
public sealed class StreamWorkerOptions
{
    /// <summary>This consumer's name in the group: default service.instance.id (from OTEL_RESOURCE_ATTRIBUTES), else host-pid.</summary>
    public string ConsumerName { get; set; } = DefaultConsumerName();
    /// <summary>A pending message idle this long (its consumer died, or its handler failed) is claimed by any live consumer.</summary>
    public TimeSpan MinIdle { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>How often to look for claimable messages.</summary>
    public TimeSpan ClaimInterval { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>After this many deliveries that did not succeed, the message goes to <c>ft:deadletter</c>.</summary>
    public int MaxAttempts { get; set; } = 5;
    /// <summary>In-process retries (Polly, exponential backoff with jitter) of a transient failure before the delivery counts as failed.</summary>
    public int TransientRetries { get; set; } = 3;
    public TimeSpan TransientRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);
    /// <summary>Polling: XREADGROUP cannot block on a multiplexed connection, so an empty read waits this long (doubling up to <see cref="MaxPollInterval"/>).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(50);
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static string DefaultConsumerName()
    {
        var attributes = Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES") ?? "";
        foreach (var pair in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length == 2 && kv[0].Trim() == "service.instance.id" && kv[1].Trim().Length > 0) return kv[1].Trim();
        }
        return $"{Environment.MachineName}-{Environment.ProcessId}";
    }
}
