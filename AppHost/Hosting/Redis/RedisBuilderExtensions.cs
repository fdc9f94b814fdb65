// Our own AppHost engine, following Aspire.Hosting.Redis's conventions: AddRedis(name) adds a Redis resource and its
// generated "<name>-password" parameter. Locally it runs as the redis-server container when a Docker engine answers,
// else as redis-server from PATH (own data folder under .ft/redis/<name>, generated password, free port); without
// either, the AppHost stops with one line saying how to install it.

namespace FineTune.AppHost.Hosting;

public static class RedisBuilderExtensions
{
    public const string InstallHint = "install it with 'sudo apt-get install -y redis-server' (or run eng/prereqs.sh), or start a Docker engine";

    public static IResourceBuilder<RedisResource> AddRedis(this IDistributedApplicationBuilder builder, string name)
    {
        var password = builder.AddGeneratedSecret($"{name}-password");
        var redis = new RedisResource(name, password.Resource);
        redis.Entrypoint = "/bin/sh";
        return builder.AddResource(redis)
            .WithEndpoint(new EndpointAnnotation(RedisResource.EndpointName, "tcp", TargetPort: RedisDefaults.Port, Transport: "tcp"))
            .WithEnvironment("REDIS_PASSWORD", password)
            .WithAnnotation(new ArgsAnnotation(() => ContainerArgs(redis)))
            .WithHealthProbe(new RedisPingProbe(RedisResource.EndpointName, password.Resource))
            .WithAnnotation(new RunModeLaunchAnnotation(context => ChooseLaunch(redis, context)));
    }

    /// <summary>A named volume at /data (container) — the local redis-server keeps its files under .ft/redis/&lt;name&gt; either way.</summary>
    public static IResourceBuilder<RedisResource> WithDataVolume(this IResourceBuilder<RedisResource> builder, string? name = null) =>
        builder.WithVolume(name ?? $"finetune-{builder.Resource.Name}-data", RedisDefaults.DataTarget);

    /// <summary>Turns on the append-only file, so no acknowledged write is lost when Redis restarts.</summary>
    public static IResourceBuilder<RedisResource> WithPersistence(this IResourceBuilder<RedisResource> builder)
    {
        builder.Resource.AppendOnly = true;
        return builder;
    }

    private static IReadOnlyList<ReferenceExpression> ContainerArgs(RedisResource redis)
    {
        // The shell only expands $REDIS_PASSWORD (kept out of the args); exec makes redis-server PID 1, so it gets the
        // SIGTERM of `docker stop` or a pod deletion and flushes the AOF, instead of being SIGKILLed after the grace period.
        var command = "exec redis-server --requirepass $REDIS_PASSWORD" + (redis.AppendOnly ? " --appendonly yes" : "");
        return [ReferenceExpression.Literal("-c"), ReferenceExpression.Literal(command)];
    }

    private static RunModeLaunch ChooseLaunch(RedisResource redis, RunModeLaunchContext context)
    {
        if (context.ContainerEngineAvailable)
            return new RunModeLaunch.Container();
        var server = context.FindOnPath("redis-server");
        if (server is null)
            return new RunModeLaunch.Unavailable($"redis-server was not found on PATH and no Docker engine answers: {InstallHint}.", Fatal: true);

        var dataDirectory = Path.Combine(context.StateDirectory, "redis", redis.Name);
        Directory.CreateDirectory(dataDirectory);
        var port = redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
        string[] literal = ["--bind", "127.0.0.1", "-::1", "--protected-mode", "yes", "--dir", dataDirectory,
            "--appendonly", redis.AppendOnly ? "yes" : "no", "--save", ""];
        ReferenceExpression[] args =
        [
            ReferenceExpression.Literal("--port"), ReferenceExpression.Of(port),
            ReferenceExpression.Literal("--requirepass"), ReferenceExpression.Of(redis.Password),
            .. literal.Select(ReferenceExpression.Literal),
        ];
        return new RunModeLaunch.Process(server, args, dataDirectory, new Dictionary<string, ReferenceExpression>(),
            $"redis-server (data in {dataDirectory})");
    }
}
