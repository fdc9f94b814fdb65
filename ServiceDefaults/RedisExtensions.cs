using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The services' Redis connection: Aspire.StackExchange.Redis's <c>AddRedisClient</c> (ConnectionStrings__&lt;name&gt; from the
/// AppHost, health check, metrics) with what this system needs on top: keep retrying in the background when Redis restarts,
/// name the client after the service, and log connection loss and recovery. Its command tracing is off: the workers' blocking
/// stream reads and the trainers' gradient exchange would bury each job's trace under thousands of Redis spans.
/// </summary>
public static class RedisExtensions
{
    public static TBuilder AddJobStoreRedis<TBuilder>(this TBuilder builder, string connectionName) where TBuilder : IHostApplicationBuilder
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(connectionName)))
            throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{connectionName}' is missing. Run the service under the AppHost, or set ConnectionStrings__{connectionName}.");
        builder.AddRedisClient(connectionName, settings => settings.DisableTracing = true, options =>
        {
            options.AbortOnConnectFail = false;
            options.ConnectRetry = 5;
            options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
            options.ClientName = builder.Environment.ApplicationName;
        });
        builder.Services.AddHostedService<RedisConnectionLog>();
        return builder;
    }

    private sealed class RedisConnectionLog(IConnectionMultiplexer redis, ILogger<RedisConnectionLog> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            redis.ConnectionFailed += (_, e) => logger.LogWarning("Redis connection failed: {FailureType} {Endpoint}", e.FailureType, e.EndPoint);
            redis.ConnectionRestored += (_, e) => logger.LogInformation("Redis connection restored: {Endpoint}", e.EndPoint);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
