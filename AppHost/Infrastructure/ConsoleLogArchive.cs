using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// Keeps every resource's console log after the app stops: in run mode, each resource instance (a trainer replica is one
/// instance) gets &lt;state&gt;/logs/&lt;start time&gt;/&lt;instance&gt;.log, appended line by line as the dashboard receives it.
/// The dashboard holds logs only while the AppHost runs; a training run's logs (a native crash, a lost member) are
/// wanted after it. The newest run's folder is also reachable as &lt;state&gt;/logs/latest.
/// </summary>
internal sealed class ConsoleLogArchive(ResourceNotificationService notifications, ResourceLoggerService logs,
    ConsoleLogFolder folder, ILogger<ConsoleLogArchive> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, Task> _followed = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Directory.CreateDirectory(folder.Path);
        folder.PointLatestHere();
        logger.LogInformation("Console logs of every resource are kept in {Folder}", folder.Path);
        try
        {
            await foreach (var change in notifications.WatchAsync(stoppingToken))
                _ = _followed.GetOrAdd(change.ResourceId, id => FollowAsync(id, stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        await Task.WhenAll(_followed.Values);
    }

    private async Task FollowAsync(string resourceId, CancellationToken stoppingToken)
    {
        await Task.Yield();
        var path = System.IO.Path.Combine(folder.Path, ConsoleLogFolder.FileName(resourceId));
        try
        {
            await using var writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(stoppingToken))
                foreach (var line in batch)
                    await writer.WriteLineAsync(line.IsErrorMessage ? $"[stderr] {line.Content}" : line.Content);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (IOException ex)
        {
            logger.LogWarning("Console log of {Resource} not kept in {Path}: {Error}", resourceId, path, ex.Message);
        }
    }
}

public static class ConsoleLogArchiveExtensions
{
    /// <summary>In run mode, keeps every resource's console log under &lt;state&gt;/logs (see <see cref="ConsoleLogArchive"/>).</summary>
    public static IDistributedApplicationBuilder AddConsoleLogArchive(this IDistributedApplicationBuilder builder)
    {
        if (!builder.ExecutionContext.IsRunMode) return builder;
        builder.Services.AddSingleton(ConsoleLogFolder.ForRun(AppHostState.Directory(builder), DateTimeOffset.UtcNow));
        builder.Services.AddHostedService<ConsoleLogArchive>();
        return builder;
    }
}
