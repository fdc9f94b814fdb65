using System.Net;
using System.Text.Json;
using StackExchange.Redis;

namespace FineTune.Dashboard.Tests;

public sealed class JobsApiTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private ConnectionMultiplexer _client = null!;

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _client = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",abortConnect=false");
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task JobReadsHashStagesMetricsAndEventsFromRedis()
    {
        var job = new JobSeed(_client.GetDatabase(), "job-api-1");
        await job.CreateAsync();
        await job.AppendStepsAsync(20);
        await using var host = await DashboardHost.StartAsync(configure: o => o.RedisConnectionString = _redis.ConnectionString);
        using var client = await host.ClientAsync();

        using var list = JsonDocument.Parse(await client.GetStringAsync("/api/jobs"));
        Assert.Equal("job-api-1", Assert.Single(list.RootElement.EnumerateArray()).GetProperty("id").GetString());

        using var doc = JsonDocument.Parse(await client.GetStringAsync("/api/jobs/job-api-1"));
        var view = doc.RootElement.GetProperty("job");
        Assert.Equal("training", view.GetProperty("status").GetString());
        Assert.Equal("models/tiny-llama", view.GetProperty("spec").GetProperty("base_model").GetString()); // JSON field parsed
        var stages = view.GetProperty("stages").EnumerateArray().ToList();
        Assert.Equal(["preprocessing", "training"], stages.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal(JsonValueKind.Null, stages[1].GetProperty("finished").ValueKind);
        var metrics = doc.RootElement.GetProperty("metrics").EnumerateArray().ToList();
        Assert.Equal(22, metrics.Count); // 20 train records and 2 eval records
        Assert.Equal(2, metrics.Count(m => m.GetProperty("fields").GetProperty("kind").GetString() == "eval"));
        Assert.All(metrics, m => Assert.False(m.GetProperty("fields").TryGetProperty("traceparent", out _)));
        Assert.Equal(2, doc.RootElement.GetProperty("events").GetArrayLength());

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/jobs/no-such-job")).StatusCode);
    }

    [Fact]
    public async Task JobsAnswer503WhileRedisIsDownAndRecoverAfter()
    {
        await new JobSeed(_client.GetDatabase(), "job-api-2").CreateAsync();
        await using var host = await DashboardHost.StartAsync(configure: o =>
            o.RedisConnectionString = _redis.ConnectionString + ",asyncTimeout=1000,connectTimeout=1000");
        using var client = await host.ClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/jobs")).StatusCode);

        _redis.Kill();
        var down = await client.GetAsync("/api/jobs/job-api-2");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Contains("Redis", await down.Content.ReadAsStringAsync());

        await _redis.StartAsync(); // same port and data (AOF)
        HttpResponseMessage again;
        var attempts = 0;
        do again = await client.GetAsync("/api/jobs/job-api-2"); // the multiplexer reconnects in the background
        while (again.StatusCode != HttpStatusCode.OK && ++attempts < 20);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }
}
