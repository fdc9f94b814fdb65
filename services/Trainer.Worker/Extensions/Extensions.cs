using FineTune.Data;
using FineTune.Messaging;
using FineTune.Messaging.Jobs;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Trainer.Worker.DataParallel;
using Trainer.Worker.Services;

namespace Trainer.Worker.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddJobStoreRedis("redis");
        builder.Services.AddOptions<TrainerOptions>().BindConfiguration("Trainer");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2)); // room to checkpoint on SIGTERM

        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<ReplicaState>();
        builder.Services.AddSingleton<GroupStore>();
        builder.Services.AddSingleton<ReplicaHeartbeat>();
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<TrainerOptions>>().Value;
            return new StreamWorkerOptions { MinIdle = options.LeaseTime, ClaimInterval = options.ClaimInterval, MaxAttempts = options.MaxAttempts };
        });
        builder.Services.AddSingleton(sp => new JobTrainer(
            sp.GetRequiredService<JobStore>(), sp.GetRequiredService<GroupStore>(), sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<ReplicaState>(), sp.GetRequiredService<ReplicaHeartbeat>(), DataRoot.FromConfigured(builder.Configuration[DataRoot.ConfigurationKey]).Path, sp.GetRequiredService<IOptions<TrainerOptions>>().Value, sp.GetRequiredService<ILogger<JobTrainer>>()));
        builder.Services.AddHostedService<TrainJobWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplicaHeartbeat>());
        builder.Services.AddHostedService<GroupMember>();
        return builder;
    }
}
