// Our own AppHost engine, following .NET Aspire's conventions: DistributedApplication.CreateBuilder(args) in
// Program.cs, then Build().Run(). With "--publisher <name> --output-path <path>" it writes the app model out with
// that publisher and exits; otherwise it runs everything locally until Ctrl+C or SIGTERM, then stops every child.

using System.Runtime.InteropServices;
using FineTune.AppHost.Hosting.Lifecycle;
using FineTune.AppHost.Hosting.Runner;
using FineTune.AppHost.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTune.AppHost.Hosting;

public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly IDistributedApplicationBuilder _builder;
    private AppHostRunner? _runner;

    internal DistributedApplication(IHost host, IDistributedApplicationBuilder builder)
    {
        _host = host;
        _builder = builder;
    }

    public static IDistributedApplicationBuilder CreateBuilder(string[] args) =>
        new DistributedApplicationBuilder(new DistributedApplicationOptions { Args = args });

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options) =>
        new DistributedApplicationBuilder(options);

    public IServiceProvider Services => _host.Services;

    /// <summary>The running resources (after <see cref="StartAsync"/>): states, health, restarts, console lines, commands.</summary>
    public IResourceStateSource ResourceStates => _runner ?? throw new InvalidOperationException("The application has not been started.");

    public void Run() => RunAsync().GetAwaiter().GetResult();

    /// <summary>Publishes (and returns) or runs until Ctrl+C / SIGTERM. Sets the process exit code to 1 on failure.</summary>
    public async Task RunAsync()
    {
        var context = _builder.ExecutionContext;
        if (context.IsPublishMode)
        {
            Environment.ExitCode = await PublishAsync(context) ? 0 : 1;
            return;
        }

        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true; // we stop the children first, then return from Main
            stop.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);

        using var hooksStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var hooks = Task.CompletedTask;
        try
        {
            await StartAsync(stop.Token);
            hooks = RunLifecycleHooksAsync(hooksStop.Token);
            await _runner!.WaitForShutdownAsync(stop.Token);
        }
        catch (AppHostException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Environment.ExitCode = 1;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            await hooksStop.CancelAsync();
            await hooks;
            await StopAsync();
        }
    }

    /// <summary>Runs every <see cref="IDistributedApplicationLifecycleHook"/> on its own task; failures are reported, not fatal.</summary>
    private Task RunLifecycleHooksAsync(CancellationToken cancellationToken)
    {
        var runner = _runner!;
        var context = new ResourcesStartedContext(_host.Services.GetRequiredService<DistributedApplicationModel>(), runner.Values, runner,
            runner.Dashboard?.BrowserUrl, Console.Out);
        return Task.WhenAll(_host.Services.GetServices<IDistributedApplicationLifecycleHook>().Select(hook => Task.Run(async () =>
        {
            try
            {
                await hook.AfterResourcesStartedAsync(context, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                lock (Console.Out) Console.Out.WriteLine($"apphost: {hook.GetType().Name} failed: {ex.Message}");
            }
        }, CancellationToken.None)));
    }

    /// <summary>Starts every resource in dependency order and returns once all are healthy (or throws AppHostException).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_runner is not null)
            throw new InvalidOperationException("The application was already started.");
        _runner = new AppHostRunner(
            _host.Services.GetRequiredService<DistributedApplicationModel>(),
            _builder.Configuration,
            _builder.Environment,
            _host.Services.GetService<IDashboard>(),
            Console.Out);
        await _runner.StartAsync(cancellationToken);
    }

    /// <summary>Stops every process this application started (dependants first) and waits for them to exit.</summary>
    public async Task StopAsync()
    {
        if (_runner is not null)
            await _runner.StopAllAsync();
    }

    private async Task<bool> PublishAsync(DistributedApplicationExecutionContext context)
    {
        var publisher = _host.Services.GetKeyedService<IDistributedApplicationPublisher>(context.PublisherName);
        if (publisher is null)
        {
            var known = _builder.Services.Where(s => s.IsKeyedService && s.ServiceType == typeof(IDistributedApplicationPublisher))
                .Select(s => s.ServiceKey?.ToString());
            Console.Error.WriteLine($"apphost: unknown publisher '{context.PublisherName}'. Known publishers: {string.Join(", ", known)}.");
            return false;
        }
        if (string.IsNullOrWhiteSpace(context.OutputPath))
        {
            Console.Error.WriteLine($"apphost: --publisher {context.PublisherName} needs --output-path <path>.");
            return false;
        }
        var model = _host.Services.GetRequiredService<DistributedApplicationModel>();
        // Relative output paths are relative to the AppHost project, so "--output-path ../aspire-manifest.json" lands at the repo root.
        var outputPath = Path.GetFullPath(context.OutputPath, model.AppHostDirectory);
        try
        {
            await publisher.PublishAsync(model, outputPath, CancellationToken.None);
            Console.WriteLine($"apphost: {context.PublisherName} written to {outputPath}");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Console.Error.WriteLine($"apphost: {context.PublisherName} publisher failed writing {outputPath}: {ex.Message}");
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (_runner is not null)
            await _runner.DisposeAsync();
        _host.Dispose();
    }
}

/// <summary>A failure the AppHost reports as one line naming the resource and the cause, then stops what it started.</summary>
public sealed class AppHostException(string message, Exception? inner = null) : Exception(message, inner);
