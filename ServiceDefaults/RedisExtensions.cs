using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>One shared, health-checked StackExchange.Redis connection per process, from ConnectionStrings__&lt;name&gt;.</summary>
public static class RedisExtensions
{
    public static TBuilder AddRedisClient<TBuilder>(this TBuilder builder, string connectionName) where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"Connection string 'ConnectionStrings:{connectionName}' is missing. Run the service under the AppHost, or set ConnectionStrings__{connectionName}.");

        builder.Services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = false;          // keep retrying in the background: Redis may restart
            options.ConnectRetry = 5;
            options.ReconnectRetryPolicy = new ExponentialRetry(250, 5000);
            options.ClientName = builder.Environment.ApplicationName;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Redis");
            var multiplexer = ConnectionMultiplexer.Connect(options);
            multiplexer.ConnectionFailed += (_, e) => logger.LogWarning("Redis connection failed: {FailureType} {Endpoint}", e.FailureType, e.EndPoint);
            multiplexer.ConnectionRestored += (_, e) => logger.LogInformation("Redis connection restored: {Endpoint}", e.EndPoint);
            return multiplexer;
        });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>($"{connectionName}_check");
        return builder;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("Redis did not answer PING", ex);
            }
        }
    }
}
