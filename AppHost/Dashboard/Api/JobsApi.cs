using System.Net.ServerSentEvents;
using System.Text.Json;
using FineTune.AppHost.Dashboard.Jobs;
using StackExchange.Redis;

namespace FineTune.AppHost.Dashboard.Api;

/// <summary>The fine-tuning jobs, read from Redis: list, one job with its metrics and events, and a live feed of both.</summary>
public static class JobsApi
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static RouteGroupBuilder MapJobsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/jobs", (JobStore jobs) => Guarded(jobs, async () => TypedResults.Ok(await jobs.ListAsync())));

        api.MapGet("/jobs/{id}", (string id, JobStore jobs) => Guarded(jobs, async () =>
        {
            var job = await jobs.GetAsync(id);
            return job is null
                ? TypedResults.Problem($"No job '{id}' (no ft:job:{id} hash in Redis).", statusCode: StatusCodes.Status404NotFound)
                : TypedResults.Ok(new { job, metrics = await jobs.MetricsAsync(id, null), events = await jobs.EventsAsync(id, null) });
        }));

        // Events: "job" (the hash, whenever it changed), "metrics" (new metric records), "events" (new stage events).
        // Redis has no push for a stream read by many; the server polls every 500 ms so browsers don't have to.
        api.MapGet("/jobs/{id}/stream", (string id, string? afterMetric, string? afterEvent, JobStore jobs, IHostApplicationLifetime lifetime, CancellationToken ct) =>
            TypedResults.ServerSentEvents(Follow(jobs, id, afterMetric, afterEvent, lifetime.ApplicationStopping, ct)));
        return api;
    }

    /// <summary>Redis not configured or not answering: 503 with the reason, never a bare 500.</summary>
    private static async Task<IResult> Guarded(JobStore jobs, Func<Task<IResult>> read)
    {
        if (jobs.Unavailable is { } why) return TypedResults.Problem(why, statusCode: StatusCodes.Status503ServiceUnavailable);
        try
        {
            return await read();
        }
        catch (Exception ex) when (IsRedisDown(ex))
        {
            return TypedResults.Problem($"Redis does not answer: {ex.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static bool IsRedisDown(Exception ex) => ex is RedisException or TimeoutException;

    private static async IAsyncEnumerable<SseItem<object>> Follow(JobStore jobs, string id, string? afterMetric, string? afterEvent,
        CancellationToken stopping, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct, stopping);
        string? lastJob = null;
        yield return ServerSentEventStreams.Hello;
        while (!cts.IsCancellationRequested && jobs.Unavailable is null)
        {
            JobView? job;
            IReadOnlyList<JobMetricRecord> metrics, events;
            try
            {
                job = await jobs.GetAsync(id);
                metrics = await jobs.MetricsAsync(id, afterMetric);
                events = await jobs.EventsAsync(id, afterEvent);
            }
            catch (Exception ex) when (IsRedisDown(ex))
            {
                job = null; // redis restarting: try again at the next tick; the page keeps what it has
                metrics = events = [];
            }
            var jobJson = JsonSerializer.Serialize(job);
            if (job is not null && jobJson != lastJob)
            {
                lastJob = jobJson;
                yield return new SseItem<object>(job, "job");
            }
            if (metrics.Count > 0)
            {
                afterMetric = metrics[^1].Id;
                yield return new SseItem<object>(metrics, "metrics");
            }
            if (events.Count > 0)
            {
                afterEvent = events[^1].Id;
                yield return new SseItem<object>(events, "events");
            }
            try
            {
                await Task.Delay(PollInterval, cts.Token);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }
}
