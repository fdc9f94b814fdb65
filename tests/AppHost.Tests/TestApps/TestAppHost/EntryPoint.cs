// The app models the AppHost tests run out of process. The first argument picks one:
//   replicas  redis + echo (2 replicas, each with a grandchild process), echo waits for redis
//   redis     redis alone (for the missing redis-server test)

using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.TestAppHost;

internal static class EntryPoint
{
    public static async Task<int> Main(string[] args)
    {
        var model = args.FirstOrDefault() ?? "replicas";
        var builder = DistributedApplication.CreateBuilder(args.Skip(1).ToArray());
        var redis = builder.AddRedis("redis").WithPersistence();
        if (model == "replicas")
        {
            builder.AddProject("echo", "../EchoApp/EchoApp.csproj")
                .WithReplicas(2)
                .WithEnvironment("ECHO_SPAWN_CHILD", "1")
                .WithReference(redis).WaitFor(redis);
        }
        await using var app = builder.Build();
        await app.RunAsync();
        return Environment.ExitCode;
    }
}
