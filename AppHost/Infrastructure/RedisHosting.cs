using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// The job store and message bus: Aspire's <c>AddRedis</c> (container, generated password, append-only persistence, data
/// volume) wherever containers can run and in publish mode, so the manifest keeps a normal Redis container; otherwise a
/// <see cref="LocalRedisResource"/> with the same name, connection string and persistence. The choice is logged once.
/// </summary>
public static class RedisHosting
{
    public static IResourceBuilder<IResourceWithConnectionString> AddJobStoreRedis(this IDistributedApplicationBuilder builder, string name)
    {
        if (ContainerRuntime.CanRunContainers(builder))
        {
            Choice(builder, $"{name}: Aspire's Redis container (password, append-only file, data volume)");
            return builder.AddRedis(name).WithDataVolume($"finetune-{name}-data").WithPersistence().WithArgs(AppendOnlyAsPidOne);
        }
        var server = ContainerRuntime.FindOnPath("redis-server")
            ?? throw new DistributedApplicationException(
                $"{name}: no container runtime answers and redis-server is not on PATH: install it with 'sudo apt-get install -y redis-server' (or run eng/prereqs.sh), or start Docker.");
        var dataDirectory = Path.Combine(AppHostState.Directory(builder), "redis", name);
        Directory.CreateDirectory(dataDirectory);
        Choice(builder, $"{name}: no container runtime answers, so Redis runs as {server} (append-only file in {dataDirectory})");

        var password = ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var redis = new LocalRedisResource(name, dataDirectory, password);
        var port = FreeLoopbackPort();
        // The password goes into a config file only its owner can read, not onto the command line, which the dashboard
        // shows as the resource's arguments. redis-server reads a config file named first, then the options after it.
        var configFile = Path.Combine(dataDirectory, RedisConfigFile.FileName);
        var resource = builder.AddResource(redis)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: LocalRedisResource.EndpointName, isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add(configFile);
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                foreach (var arg in new[] { "--bind", "127.0.0.1", "--protected-mode", "yes", "--dir", dataDirectory, "--appendonly", "yes", "--save", "" })
                    context.Args.Add(arg);
            })
            .ExcludeFromManifest();
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (_, ct) =>
            RedisConfigFile.Write(configFile, await password.GetValueAsync(ct) ?? throw new InvalidOperationException($"{name}: no password")));

        // Health: PING over the connection string, as Aspire's AddRedis does for its container.
        var check = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(_ => redis.ConnectionStringExpression.GetValueAsync(default).AsTask().GetAwaiter().GetResult()
            ?? throw new InvalidOperationException($"{name}: no connection string yet"), name: check);
        return resource.WithHealthCheck(check);
    }

    /// <summary>
    /// Aspire runs the container as <c>/bin/sh -c "redis-server --requirepass $REDIS_PASSWORD --save 60 1"</c>: snapshots
    /// only, and the shell as PID 1. This adds the append-only file (no acknowledged job write is lost on a restart, as
    /// with the local redis-server) and <c>exec</c>, so redis-server itself gets the pod's SIGTERM and flushes.
    /// </summary>
    private static void AppendOnlyAsPidOne(CommandLineArgsCallbackContext context)
    {
        var index = context.Args.Count - 1;
        if (index >= 0 && context.Args[index] is string command && command.StartsWith("redis-server ", StringComparison.Ordinal))
            context.Args[index] = $"exec {command} --appendonly yes";
    }

    private static void Choice(IDistributedApplicationBuilder builder, string message)
    {
        builder.Services.AddSingleton(new InfrastructureChoice(message));
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public static class InfrastructureChoiceExtensions
{
    /// <summary>Logs, once at start, how each piece of infrastructure runs here (container, local process, elsewhere, unavailable).</summary>
    public static IDistributedApplicationBuilder LogInfrastructureChoices(this IDistributedApplicationBuilder builder)
    {
        builder.Services.AddHostedService<InfrastructureChoiceLog>();
        return builder;
    }
}

/// <summary>One line saying how a piece of infrastructure runs here; <see cref="InfrastructureChoiceLog"/> logs each once at start.</summary>
public sealed record InfrastructureChoice(string Message);

/// <summary>Logs every <see cref="InfrastructureChoice"/> once, when the app starts.</summary>
internal sealed class InfrastructureChoiceLog(IEnumerable<InfrastructureChoice> choices, ILogger<InfrastructureChoiceLog> logger) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var choice in choices) logger.LogInformation("{Choice}", choice.Message);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
