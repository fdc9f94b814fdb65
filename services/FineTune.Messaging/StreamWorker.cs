using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace FineTune.Messaging;

/// <summary>
/// Base class of every stream consumer (preprocess, trainer, export). Subclasses name the <see cref="Stream"/> and
/// <see cref="Group"/> and implement <see cref="HandleAsync"/>; the base does the rest, at-least-once:
/// <list type="bullet">
/// <item>creates the group idempotently (XGROUP CREATE … MKSTREAM; again after NOGROUP, e.g. a Redis restart without data);</item>
/// <item>first re-reads this consumer's own pending messages (a restart under the same name), then new ones (XREADGROUP &gt;);</item>
/// <item>every <see cref="StreamWorkerOptions.ClaimInterval"/>, claims messages idle longer than <see cref="StreamWorkerOptions.MinIdle"/>
/// (XAUTOCLAIM): those of dead consumers and its own failed ones; while a handler runs, it re-claims its message every
/// MinIdle/3 so a long job is never stolen from a live consumer;</item>
/// <item>every <see cref="StreamWorkerOptions.MinIdle"/> (and at start), forgets the group's consumers that own no pending message
/// and were idle longer than that (<see cref="StaleConsumers"/>): each replica restart adds a consumer named by its new instance id;</item>
/// <item>counts deliveries in <c>ft:attempts</c> (survives crashes); acks after success; on failure leaves the message pending
/// for a later claim; after <see cref="StreamWorkerOptions.MaxAttempts"/> (or at once for <see cref="InvalidMessageException"/>)
/// moves it to <c>ft:deadletter</c> with the error and stack and acks it;</item>
/// <item>retries transient failures in process with Polly; survives Redis disconnects (backoff, then carries on);</item>
/// <item>runs each message in a Consumer span whose parent is the trace context carried by the message.</item>
/// </list>
/// </summary>
public abstract class StreamWorker : BackgroundService
{
    public const string TelemetryName = "FineTune.Messaging";
    private static readonly ActivitySource Source = new(TelemetryName);
    private static readonly Meter Meter = new(TelemetryName);
    private static readonly Counter<long> Handled = Meter.CreateCounter<long>("ft.messages.handled", description: "Messages handled, by stream and outcome");

    private readonly IConnectionMultiplexer _redis;
    private readonly ResiliencePipeline _retry;
    private bool _groupReady;
    private bool _ownPendingDone;
    private DateTime _lastClaim = DateTime.MinValue;
    private DateTime _lastPrune = DateTime.MinValue;

    protected StreamWorker(IConnectionMultiplexer redis, StreamWorkerOptions options, ILogger logger)
    {
        _redis = redis;
        Options = options;
        Logger = logger;
        _retry = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
            MaxRetryAttempts = Math.Max(1, options.TransientRetries),
            Delay = options.TransientRetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
        }).Build();
    }

    /// <summary>The stream this worker consumes.</summary>
    protected abstract string Stream { get; }
    /// <summary>The consumer group it belongs to.</summary>
    protected abstract string Group { get; }
    /// <summary>Handles one message; return normally to ack it, throw to leave it for a retry (or the dead-letter stream).</summary>
    protected abstract Task HandleAsync(StreamMessage message, CancellationToken cancellationToken);
    /// <summary>Called after a message went to the dead-letter stream (e.g. to mark its job failed). Default: nothing.</summary>
    protected virtual Task OnDeadLetteredAsync(StreamMessage message, string error) => Task.CompletedTask;
    /// <summary>Failures worth an in-process retry. Default: Redis connection/timeouts, I/O and timeouts.</summary>
    protected virtual bool IsTransient(Exception exception) =>
        exception is RedisConnectionException or RedisTimeoutException or IOException or TimeoutException;

    /// <summary>
    /// Whether to claim or read new messages now; false skips the round (the own-pending read at start-up still runs).
    /// Default true. The trainer says false while its replica serves as a member of another replica's data-parallel job.
    /// </summary>
    protected virtual bool AcceptsWork => true;

    protected StreamWorkerOptions Options { get; }
    protected ILogger Logger { get; }
    protected IDatabase Database => _redis.GetDatabase();
    public string ConsumerName => Options.ConsumerName;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var idle = Options.PollInterval;
        var backoff = TimeSpan.FromMilliseconds(250);
        Logger.LogInformation("Consumer {Consumer} reading {Stream} as group {Group}", ConsumerName, Stream, Group);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EnsureGroupAsync();
                await PruneStaleConsumersAsync();
                if (await NextEntriesAsync() is not { } entries)
                {
                    await Task.Delay(Options.MaxPollInterval, stoppingToken);
                    continue;
                }
                backoff = TimeSpan.FromMilliseconds(250);
                if (entries.Length == 0)
                {
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, Options.MaxPollInterval.Ticks));
                    continue;
                }
                idle = Options.PollInterval;
                foreach (var entry in entries)
                {
                    if (stoppingToken.IsCancellationRequested) break;
                    if (entry.IsNull) continue; // deleted while pending
                    await ProcessAsync(entry, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
            {
                Logger.LogWarning("Group {Group} on {Stream} vanished; recreating it", Group, Stream);
                _groupReady = false;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException
                                       || ex is RedisServerException && ex.Message.StartsWith("LOADING", StringComparison.Ordinal))
            {
                Logger.LogWarning("Redis unavailable for {Stream} ({Error}); retrying in {Delay} ms", Stream, ex.Message, backoff.TotalMilliseconds);
                try { await Task.Delay(backoff, stoppingToken); } catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>
    /// What to handle next: this consumer's own pending messages (until none are left, after a restart), then stale ones
    /// claimed from dead consumers (every ClaimInterval), then one new message. Null when <see cref="AcceptsWork"/> is false.
    /// </summary>
    private async Task<StreamEntry[]?> NextEntriesAsync()
    {
        var entries = Array.Empty<StreamEntry>();
        if (!_ownPendingDone)
        {
            entries = await Database.StreamReadGroupAsync(Stream, Group, ConsumerName, "0", count: 16);
            _ownPendingDone = entries.Length == 0;
        }
        if (entries.Length == 0 && !AcceptsWork) return null;
        if (entries.Length == 0 && DateTime.UtcNow - _lastClaim >= Options.ClaimInterval)
        {
            _lastClaim = DateTime.UtcNow;
            var claimed = await Database.StreamAutoClaimAsync(Stream, Group, ConsumerName, (long)Options.MinIdle.TotalMilliseconds, "0-0", 16);
            entries = claimed.ClaimedEntries;
            if (entries.Length > 0)
                Logger.LogInformation("Consumer {Consumer} claimed {Count} stale message(s) on {Stream}", ConsumerName, entries.Length, Stream);
        }
        if (entries.Length == 0)
            entries = await Database.StreamReadGroupAsync(Stream, Group, ConsumerName, ">", count: 1);
        return entries;
    }

    private async Task EnsureGroupAsync()
    {
        if (_groupReady) return;
        try
        {
            await Database.StreamCreateConsumerGroupAsync(Stream, Group, "0-0", createStream: true);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // exists already: fine
        }
        _groupReady = true;
    }

    private async Task PruneStaleConsumersAsync()
    {
        if (DateTime.UtcNow - _lastPrune < Options.MinIdle) return;
        _lastPrune = DateTime.UtcNow;
        try
        {
            var removed = await StaleConsumers.PruneAsync(Database, Stream, Group, Options.MinIdle, ConsumerName);
            if (removed.Length > 0)
                Logger.LogInformation("Consumer {Consumer} removed {Count} stale consumer(s) from group {Group} on {Stream}: {Removed}",
                    ConsumerName, removed.Length, Group, Stream, string.Join(", ", removed));
        }
        catch (RedisServerException ex)
        {
            // Housekeeping only: never let it stop consumption (e.g. scripting disabled on a managed Redis).
            Logger.LogWarning("Could not prune stale consumers of {Group} on {Stream}: {Error}", Group, Stream, ex.Message);
        }
    }

    /// <summary>
    /// The handler made durable progress (e.g. a training checkpoint): count this delivery as the first again, so deliveries
    /// cut short by crashes or kills dead-letter the message only when <see cref="StreamWorkerOptions.MaxAttempts"/> of them
    /// in a row made none.
    /// </summary>
    protected Task ResetAttemptsAsync(StreamMessage message) =>
        Database.HashSetAsync(StreamNames.Attempts, AttemptField(message.Id), 1);

    private string AttemptField(string id) => $"{Stream}|{Group}|{id}";

    private async Task ProcessAsync(StreamEntry entry, CancellationToken stoppingToken)
    {
        var id = entry.Id.ToString();
        var attemptField = AttemptField(id);
        var errorField = attemptField + "|error";
        var attempt = (int)await Database.HashIncrementAsync(StreamNames.Attempts, attemptField);
        var message = StreamMessage.From(Stream, entry, attempt);

        if (attempt > Options.MaxAttempts)
        {
            var last = await Database.HashGetAsync(StreamNames.Attempts, errorField);
            await DeadLetterAsync(message, last.IsNullOrEmpty ? "the consumer stopped while handling it" : last.ToString(), "", attempt - 1);
            return;
        }

        using var activity = StartProcessActivity(message, id, attempt);

        using var handling = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var keepAlive = KeepClaimedAsync(entry.Id, handling.Token);
        try
        {
            await _retry.ExecuteAsync(async ct => await HandleAsync(message, ct), handling.Token);
            await handling.CancelAsync();
            await keepAlive;
            var tx = Database.CreateTransaction();
            _ = tx.StreamAcknowledgeAsync(Stream, Group, entry.Id);
            _ = tx.HashDeleteAsync(StreamNames.Attempts, [attemptField, errorField]);
            await tx.ExecuteAsync();
            Handled.Add(1, new("stream", Stream), new("outcome", "ok"));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // shutting down: leave the message pending; a live consumer claims it after MinIdle
            await handling.CancelAsync();
            await keepAlive;
            throw;
        }
        catch (Exception ex)
        {
            await handling.CancelAsync();
            await keepAlive;
            activity?.AddException(ex);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await FailAsync(message, ex, errorField);
        }
    }

    private Activity? StartProcessActivity(StreamMessage message, string id, int attempt)
    {
        var activity = Source.StartActivity($"{Stream} process", ActivityKind.Consumer, message.ParentContext);
        activity?.SetTag("messaging.system", "redis");
        activity?.SetTag("messaging.destination.name", Stream);
        activity?.SetTag("messaging.consumer.group.name", Group);
        activity?.SetTag("messaging.message.id", id);
        activity?.SetTag("messaging.delivery.attempt", attempt);
        return activity;
    }

    /// <summary>
    /// A failed delivery: an invalid message dead-letters at once; any other failure dead-letters on the last attempt,
    /// else its error is kept for the next delivery (which reports it if the consumer dies on that one).
    /// </summary>
    private async Task FailAsync(StreamMessage message, Exception ex, string errorField)
    {
        var (id, attempt) = (message.Id, message.Attempt);
        if (ex is InvalidMessageException)
        {
            // bad input, not a bug: the reason is the whole story (no stack), and no retry can change it
            Logger.LogWarning("Message {MessageId} on {Stream} rejected: {Error}", id, Stream, ex.Message);
            await DeadLetterAsync(message, $"{ex.GetType().Name}: {ex.Message}", "", attempt);
            return;
        }
        Logger.LogError(ex, "Message {MessageId} on {Stream} failed (attempt {Attempt} of {MaxAttempts})", id, Stream, attempt, Options.MaxAttempts);
        if (attempt >= Options.MaxAttempts)
            await DeadLetterAsync(message, $"{ex.GetType().Name}: {ex.Message}", ex.ToString(), attempt);
        else
        {
            await Database.HashSetAsync(StreamNames.Attempts, errorField, $"{ex.GetType().Name}: {ex.Message}");
            Handled.Add(1, new("stream", Stream), new("outcome", "failed"));
        }
    }

    /// <summary>Resets the message's idle time while its handler runs, so XAUTOCLAIM elsewhere leaves it alone.</summary>
    private async Task KeepClaimedAsync(RedisValue id, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromTicks(Math.Max(Options.MinIdle.Ticks / 3, TimeSpan.FromMilliseconds(10).Ticks));
        try
        {
            using var timer = new PeriodicTimer(period);
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try { await Database.StreamClaimIdsOnlyAsync(Stream, Group, ConsumerName, 0, [id]); }
                catch (RedisException ex) { Logger.LogWarning("Could not refresh the claim on {MessageId}: {Error}", id, ex.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task DeadLetterAsync(StreamMessage message, string error, string stack, int attempts)
    {
        var fields = new List<NameValueEntry>
        {
            new("stream", Stream), new("id", message.Id), new("group", Group), new("consumer", ConsumerName),
            new("error", error), new("stack", stack), new("attempts", attempts),
            new("fields", JsonSerializer.Serialize(message.Fields)),
            new("ts", DateTimeOffset.UtcNow.ToString("O")),
        };
        TraceContext.Inject(fields);
        var attemptField = $"{Stream}|{Group}|{message.Id}";
        var tx = Database.CreateTransaction();
        _ = tx.StreamAddAsync(StreamNames.DeadLetter, [.. fields], maxLength: StreamPublisher.DefaultMaxLength, useApproximateMaxLength: true);
        _ = tx.StreamAcknowledgeAsync(Stream, Group, message.Id);
        _ = tx.HashDeleteAsync(StreamNames.Attempts, [attemptField, attemptField + "|error"]);
        await tx.ExecuteAsync();
        Handled.Add(1, new("stream", Stream), new("outcome", "deadletter"));
        Logger.LogError("Message {MessageId} on {Stream} moved to {DeadLetter} after {Attempts} attempt(s): {Error}",
            message.Id, Stream, StreamNames.DeadLetter, attempts, error);
        await OnDeadLetteredAsync(message, error);
    }
}
