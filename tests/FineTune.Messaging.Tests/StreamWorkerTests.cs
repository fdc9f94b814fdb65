using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FineTune.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace FineTune.Messaging.Tests;

/// <summary>The consumer-group worker base against a real redis-server.</summary>
public sealed class StreamWorkerTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly RedisServer _redis = new();
    private ConnectionMultiplexer _mux = null!;
    private IDatabase Db => _mux.GetDatabase();

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        var options = ConfigurationOptions.Parse(_redis.ConnectionString);
        options.AbortOnConnectFail = false;
        _mux = await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async Task DisposeAsync()
    {
        await _mux.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private sealed class TestWorker(IConnectionMultiplexer redis, string stream, StreamWorkerOptions options, Func<StreamMessage, CancellationToken, Task> handler)
        : StreamWorker(redis, options, NullLogger.Instance)
    {
        protected override string Stream => stream;
        protected override string Group => "testers";
        protected override Task HandleAsync(StreamMessage message, CancellationToken cancellationToken) => handler(message, cancellationToken);
    }

    private static StreamWorkerOptions Fast(string consumer, int maxAttempts = 5) => new()
    {
        ConsumerName = consumer,
        MinIdle = TimeSpan.FromMilliseconds(300),
        ClaimInterval = TimeSpan.FromMilliseconds(50),
        MaxAttempts = maxAttempts,
        TransientRetries = 1,
        TransientRetryDelay = TimeSpan.FromMilliseconds(10),
        MaxPollInterval = TimeSpan.FromMilliseconds(100),
    };

    private async Task<long> PendingAsync(string stream) => (await Db.StreamPendingAsync(stream, "testers")).PendingMessageCount;

    [Fact]
    public async Task MessageIsHandledAckedAndContinuesTheProducersTrace()
    {
        using var listener = new ActivityListener { ShouldListenTo = _ => true, Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded };
        ActivitySource.AddActivityListener(listener);
        using var producerSource = new ActivitySource("FineTune.Tests.Producer");
        var seen = new ConcurrentQueue<(string Job, ActivityTraceId Trace, ActivityTraceId? HandlerTrace)>();
        using var worker = new TestWorker(_mux, "t:ok", Fast("a"), (m, _) =>
        {
            seen.Enqueue((m.Required("job"), m.ParentContext.TraceId, Activity.Current?.TraceId));
            return Task.CompletedTask;
        });
        await worker.StartAsync(default);

        ActivityTraceId producerTrace;
        using (var producer = producerSource.StartActivity("submit", ActivityKind.Producer))
        {
            producerTrace = producer!.TraceId;
            await Db.PublishAsync("t:ok", [new("job", "j1")]);
        }
        await Eventually.UntilAsync(() => Task.FromResult(!seen.IsEmpty), Bound, "the message was handled");
        await Eventually.UntilAsync(async () => await PendingAsync("t:ok") == 0, Bound, "the message was acked");
        var (job, trace, handlerTrace) = Assert.Single(seen);
        Assert.Equal("j1", job);
        Assert.Equal(producerTrace, trace);
        Assert.Equal(producerTrace, handlerTrace);
        Assert.Empty(await Db.HashGetAllAsync(StreamNames.Attempts));
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task CrashedConsumersMessageIsClaimedAndFinishedByAnother()
    {
        await Db.StreamCreateConsumerGroupAsync("t:crash", "testers", "0-0", createStream: true);
        await Db.PublishAsync("t:crash", [new("job", "j2")]);
        // A consumer takes the message and dies before acking it: it sits in that consumer's pending list.
        var taken = await Db.StreamReadGroupAsync("t:crash", "testers", "crashed-consumer", ">", count: 1);
        Assert.Single(taken);

        var finishedBy = new ConcurrentQueue<string>();
        using var worker = new TestWorker(_mux, "t:crash", Fast("survivor"), (m, _) =>
        {
            finishedBy.Enqueue($"{m.Required("job")}@{m.Attempt}");
            return Task.CompletedTask;
        });
        await worker.StartAsync(default);
        await Eventually.UntilAsync(async () => await PendingAsync("t:crash") == 0, Bound, "the survivor claimed and acked the message");
        Assert.Equal(["j2@1"], finishedBy);
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task FailingMessageIsRetriedThenDeadLetteredWithErrorAndStack()
    {
        var attempts = new ConcurrentQueue<int>();
        using var worker = new TestWorker(_mux, "t:fail", Fast("a", maxAttempts: 3), (m, _) =>
        {
            attempts.Enqueue(m.Attempt);
            throw new InvalidOperationException($"cannot handle {m.Get("job")}");
        });
        await worker.StartAsync(default);
        var id = await Db.PublishAsync("t:fail", [new("job", "poison")]);

        await Eventually.UntilAsync(async () => await Db.StreamLengthAsync(StreamNames.DeadLetter) == 1, Bound, "the message reached the dead-letter stream");
        var dead = (await Db.StreamRangeAsync(StreamNames.DeadLetter)).Single();
        var fields = dead.Values.ToDictionary(v => v.Name.ToString(), v => v.Value.ToString());
        Assert.Equal("t:fail", fields["stream"]);
        Assert.Equal(id, fields["id"]);
        Assert.Equal("3", fields["attempts"]);
        Assert.Equal("InvalidOperationException: cannot handle poison", fields["error"]);
        Assert.Contains("StreamWorkerTests", fields["stack"]);
        Assert.Equal("poison", JsonDocument.Parse(fields["fields"]).RootElement.GetProperty("job").GetString());
        Assert.Equal([1, 2, 3], attempts);
        Assert.Equal(0, await PendingAsync("t:fail"));
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task InvalidMessageIsDeadLetteredAtOnce()
    {
        using var worker = new TestWorker(_mux, "t:invalid", Fast("a"), (m, _) => Task.FromResult(m.Required("job")));
        await worker.StartAsync(default);
        await Db.PublishAsync("t:invalid", [new("other", "x")]);
        await Eventually.UntilAsync(async () => await Db.StreamLengthAsync(StreamNames.DeadLetter) == 1, Bound, "dead-lettered");
        var fields = (await Db.StreamRangeAsync(StreamNames.DeadLetter)).Single().Values.ToDictionary(v => v.Name.ToString(), v => v.Value.ToString());
        Assert.Equal("1", fields["attempts"]);
        Assert.Contains("required field 'job'", fields["error"]);
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task WorkerCarriesOnAfterRedisRestarts()
    {
        var handled = new ConcurrentQueue<string>();
        using var worker = new TestWorker(_mux, "t:restart", Fast("a"), (m, _) => { handled.Enqueue(m.Required("job")); return Task.CompletedTask; });
        await worker.StartAsync(default);
        await Db.PublishAsync("t:restart", [new("job", "before")]);
        await Eventually.UntilAsync(() => Task.FromResult(handled.Contains("before")), Bound, "handled before the restart");

        await _redis.RestartAsync();
        await Eventually.UntilAsync(async () =>
        {
            try { await Db.PublishAsync("t:restart", [new("job", "after")]); return true; }
            catch (RedisException) { return false; }
        }, Bound, "Redis accepts writes again");
        await Eventually.UntilAsync(() => Task.FromResult(handled.Contains("after")), Bound, "handled after the restart");
        await worker.StopAsync(default);
    }

    private async Task<string[]> ConsumersAsync(string stream) =>
        [.. (await Db.StreamConsumerInfoAsync(stream, "testers")).Select(c => c.Name.ToString()).Order()];

    private async Task<bool> IdleAtLeastAsync(string stream, TimeSpan idle, params string[] consumers) =>
        (await Db.StreamConsumerInfoAsync(stream, "testers"))
        .Where(c => consumers.Contains(c.Name.ToString()))
        .Count(c => c.IdleTimeInMilliseconds >= idle.TotalMilliseconds) == consumers.Length;

    [Fact]
    public async Task PruneRemovesOnlyIdleConsumersThatOwnNoPendingMessage()
    {
        const string stream = "t:prune";
        await Db.StreamCreateConsumerGroupAsync(stream, "testers", "0-0", createStream: true);
        await Db.PublishAsync(stream, [new("job", "j1")]);
        await Db.ExecuteAsync("XGROUP", "CREATECONSUMER", stream, "testers", "gone-empty");
        await Db.ExecuteAsync("XGROUP", "CREATECONSUMER", stream, "testers", "self");
        Assert.Single(await Db.StreamReadGroupAsync(stream, "testers", "gone-owning", ">", count: 1)); // took j1, never acked
        var limit = TimeSpan.FromSeconds(1);
        await Eventually.UntilAsync(() => IdleAtLeastAsync(stream, limit, "gone-empty", "gone-owning", "self"), Bound, "three consumers idle past the limit");
        await Db.ExecuteAsync("XGROUP", "CREATECONSUMER", stream, "testers", "fresh");

        var removed = await StaleConsumers.PruneAsync(Db, stream, "testers", limit, keep: "self");

        Assert.Equal(["gone-empty"], removed);
        Assert.Equal(["fresh", "gone-owning", "self"], await ConsumersAsync(stream));
        var pending = await Db.StreamPendingMessagesAsync(stream, "testers", 10, RedisValue.Null);
        Assert.Equal("gone-owning", Assert.Single(pending).ConsumerName.ToString()); // j1 still tracked, so it can be claimed
    }

    [Fact]
    public async Task WorkerForgetsEarlierReplicasOnceTheirMessagesAreClaimed()
    {
        const string stream = "t:replicas";
        await Db.StreamCreateConsumerGroupAsync(stream, "testers", "0-0", createStream: true);
        await Db.PublishAsync(stream, [new("job", "j1")]);
        await Db.PublishAsync(stream, [new("job", "j2")]);
        // Two earlier replicas: one stopped cleanly, one crashed holding j1.
        await Db.ExecuteAsync("XGROUP", "CREATECONSUMER", stream, "testers", "replica-old-1");
        Assert.Single(await Db.StreamReadGroupAsync(stream, "testers", "replica-old-2", ">", count: 1));

        var handled = new ConcurrentQueue<string>();
        using var worker = new TestWorker(_mux, stream, Fast("replica-new"), (m, _) => { handled.Enqueue(m.Required("job")); return Task.CompletedTask; });
        await worker.StartAsync(default);

        await Eventually.UntilAsync(async () => (await ConsumersAsync(stream)) is ["replica-new"], Bound, "only the live replica is left in the group");
        Assert.Equal(0, await PendingAsync(stream));
        Assert.Equal(["j1", "j2"], handled.Order());
        await worker.StopAsync(default);
    }
}
