// Our own AppHost engine, following .NET Aspire's run mode: resolves parameters, decides how each resource runs
// here, allocates a free port per endpoint and instance, starts the dashboard (when one is registered), builds each
// project once, then starts every resource as soon as what it waits for is healthy. A failure while starting (a port
// in use, a missing redis-server, a build error, a service that never becomes healthy) is reported as one line naming
// the resource and the cause, and everything already started is stopped. Implements IResourceStateSource for the dashboard.

using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class AppHostRunner : IResourceStateSource, IAsyncDisposable
{
    private readonly DistributedApplicationModel _model;
    private readonly IConfiguration _configuration;
    private readonly IHostEnvironment _environment;
    private readonly IDashboard? _dashboard;
    private readonly TextWriter _output;
    private IReadOnlyList<ResourceRunner> _runners = []; // published once complete (the dashboard may read it at any time)
    private readonly SemaphoreSlim _buildGate = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<IResource, string> _targetPaths = [];
    private RunContext? _context;
    private bool _stopped;

    public AppHostRunner(DistributedApplicationModel model, IConfiguration configuration, IHostEnvironment environment, IDashboard? dashboard, TextWriter output)
    {
        _model = model;
        _configuration = configuration;
        _environment = environment;
        _dashboard = dashboard;
        _output = output;
        HealthInterval = TimeSpan.FromSeconds(configuration.GetValue("AppHost:HealthIntervalSeconds", 5.0));
        HealthTimeout = TimeSpan.FromSeconds(configuration.GetValue("AppHost:HealthTimeoutSeconds", 180.0));
        StopTimeout = TimeSpan.FromSeconds(configuration.GetValue("AppHost:StopTimeoutSeconds", 10.0));
        ConsoleCapacity = configuration.GetValue("AppHost:ConsoleLinesPerInstance", 10_000);
        BuildProjects = configuration.GetValue("AppHost:BuildProjects", true);
        BuildConfiguration = configuration["AppHost:Configuration"]
            ?? typeof(AppHostRunner).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
            ?? "Debug";
    }

    public RunValues Values { get; } = new();

    public TimeSpan HealthInterval { get; }

    public TimeSpan HealthTimeout { get; }

    public TimeSpan StopTimeout { get; }

    public int ConsoleCapacity { get; }

    public string BuildConfiguration { get; }

    /// <summary>
    /// Build each project before starting it (default). False (AppHost:BuildProjects=false) runs the outputs that already
    /// exist, as Aspire does when its AppHost build has built the projects; tests that build them first use it.
    /// </summary>
    public bool BuildProjects { get; }

    public DashboardEndpoints? Dashboard { get; private set; }

    public event Action<ResourceSnapshot>? ResourceChanged;

    public event Action<ConsoleLine>? ConsoleLineWritten;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            await PrepareAsync(cancellationToken);
            var startup = Task.WhenAll(_runners.Select(r => RunResourceAsync(r, linked.Token)));
            var first = await Task.WhenAny(startup, _fatal.Task).WaitAsync(cancellationToken);
            if (first == _fatal.Task)
                await _fatal.Task; // throws the AppHostException
            await startup;
        }
        catch
        {
            await StopAllAsync();
            throw;
        }
        PrintSummary(DateTimeOffset.UtcNow - started);
    }

    /// <summary>Returns when <paramref name="cancellationToken"/> fires (Ctrl+C, SIGTERM); throws if a resource failed fatally.</summary>
    public async Task WaitForShutdownAsync(CancellationToken cancellationToken)
    {
        var stop = Task.Delay(Timeout.Infinite, cancellationToken);
        if (await Task.WhenAny(stop, _fatal.Task) == _fatal.Task)
            await _fatal.Task;
    }

    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        CheckForCycles();
        foreach (var parameter in _model.Resources.OfType<ParameterResource>())
            Values.SetParameter(parameter, ResolveParameter(parameter));

        var needsEngine = _model.Resources.OfType<ContainerResource>().Any();
        var engine = needsEngine && await ContainerEngine.IsAvailableAsync(cancellationToken);
        var unavailable = new HashSet<IResource>();
        var runners = new List<ResourceRunner>();
        foreach (var resource in _model.Resources)
        {
            ResourceRunner? runner = resource switch
            {
                ProjectResource => new ResourceRunner(this, resource, null, "project"),
                ExecutableResource => new ResourceRunner(this, resource, null, "executable"),
                ContainerResource container => RunnerFor(container, engine),
                _ => null,
            };
            if (runner is null)
                continue;
            if (runner.Launch is RunModeLaunch.Unavailable { Fatal: true } fatal)
                throw new AppHostException($"{resource.Name}: {fatal.Reason}");
            if (runner.IsUnavailable)
                unavailable.Add(resource);
            runners.Add(runner);
        }

        var ports = new PortAllocator();
        foreach (var runner in runners.Where(r => !r.IsUnavailable))
            AllocateEndpoints(runner, ports);
        _runners = runners;

        var otlp = OtlpSettings.FromConfiguration(_configuration);
        if (_dashboard is not null)
        {
            Dashboard = await _dashboard.StartAsync(this, cancellationToken);
            otlp = new OtlpSettings(Dashboard.OtlpGrpcUrl, "grpc", Dashboard.OtlpApiKey);
            Announce($"dashboard: {Dashboard.BrowserUrl}");
        }
        else
        {
            Announce($"dashboard: none embedded (its place: http://localhost:18888); services export OTLP to {otlp.Endpoint} ({otlp.Protocol})");
        }
        _context = new RunContext(Values, otlp, _environment.EnvironmentName, _model.StateDirectory, unavailable);
    }

    private ResourceRunner RunnerFor(ContainerResource container, bool engine)
    {
        var choose = container.Annotations.Last<RunModeLaunchAnnotation>()?.Choose;
        var context = new RunModeLaunchContext(container, engine, _configuration, _model.StateDirectory, PathLookup.Find);
        var launch = choose?.Invoke(context)
            ?? (engine ? new RunModeLaunch.Container() : new RunModeLaunch.Unavailable("no Docker engine answers (docker info failed)", Fatal: true));
        var type = launch is RunModeLaunch.Process ? "executable" : "container";
        var runner = new ResourceRunner(this, container, launch, type);
        if (launch is RunModeLaunch.Unavailable unavailable)
            runner.Reason = unavailable.Reason;
        return runner;
    }

    private string ResolveParameter(ParameterResource parameter)
    {
        var configured = _configuration[$"Parameters:{parameter.Name}"];
        if (!string.IsNullOrEmpty(configured))
            return configured;
        return parameter.Generate?.NewValue()
            ?? throw new AppHostException($"{parameter.Name}: parameter has no value; set Parameters__{parameter.Name.Replace('-', '_')} or Parameters:{parameter.Name} in configuration.");
    }

    private void AllocateEndpoints(ResourceRunner runner, PortAllocator ports)
    {
        var resource = runner.Resource;
        var instances = resource is ProjectResource project ? project.Replicas : 1;
        foreach (var endpoint in resource.Annotations.OfKind<EndpointAnnotation>())
        {
            var allocated = new List<AllocatedEndpoint>();
            for (var i = 0; i < instances; i++)
            {
                if (runner.Launch is RunModeLaunch.External external)
                {
                    allocated.Add(new AllocatedEndpoint(external.Url.Scheme, external.Url.Host, external.Url.Port, external.Url.Port));
                    continue;
                }
                var port = endpoint.Port is int fixedPort ? ports.Fixed(resource, endpoint.Name, fixedPort) : ports.Next();
                // A container listens on its target port behind the published host port; a process listens on the port itself.
                var target = runner.Launch is RunModeLaunch.Container ? endpoint.TargetPort ?? port : port;
                allocated.Add(new AllocatedEndpoint(endpoint.Scheme, "localhost", port, target));
            }
            Values.SetEndpoints(resource, endpoint.Name, allocated);
        }
    }

    private async Task RunResourceAsync(ResourceRunner runner, CancellationToken token)
    {
        try
        {
            var resource = runner.Resource;
            if (runner.Launch is RunModeLaunch.Unavailable unavailable)
            {
                runner.OverrideState = "Unavailable";
                runner.Changed();
                Announce($"{resource.Name}: unavailable: {unavailable.Reason}");
                foreach (var dependant in _model.Resources.Where(r => r.Annotations.OfKind<ReferenceAnnotation>().Any(a => a.Source == resource)))
                    Announce($"{dependant.Name}: starts without ConnectionStrings__{resource.Name} ({resource.Name} is unavailable)");
                return;
            }

            if (resource is ProjectResource project)
            {
                runner.OverrideState = "Starting";
                runner.Reason = "building";
                runner.Changed();
                await _buildGate.WaitAsync(token); // one build at a time: they share dependencies (ServiceDefaults, …)
                try
                {
                    token.ThrowIfCancellationRequested();
                    string targetPath;
                    if (!BuildProjects)
                    {
                        targetPath = ProjectBuilder.BuiltOutput(project, BuildConfiguration);
                    }
                    else
                    {
                        Announce($"{resource.Name}: building {Path.GetRelativePath(_model.AppHostDirectory, project.ProjectPath)} ({BuildConfiguration})");
                        targetPath = await ProjectBuilder.BuildOnceAsync(project, BuildConfiguration, token);
                    }
                    lock (_targetPaths)
                        _targetPaths[resource] = targetPath;
                }
                finally
                {
                    _buildGate.Release();
                }
                runner.Reason = null;
            }

            var waits = resource.Annotations.OfKind<WaitAnnotation>().Select(w => w.Dependency).Distinct().ToList();
            if (waits.Count > 0)
            {
                runner.OverrideState = "Waiting";
                runner.Changed();
            }
            foreach (var dependency in waits)
            {
                var dependencyRunner = _runners.FirstOrDefault(r => r.Resource == dependency);
                if (dependencyRunner is null)
                    continue;
                if (dependencyRunner.IsUnavailable)
                {
                    Announce($"{resource.Name}: not waiting for {dependency.Name}, which is unavailable");
                    continue;
                }
                await dependencyRunner.Healthy.Task.WaitAsync(token);
            }

            if (runner.Launch is RunModeLaunch.External)
            {
                _ = RunExternalAsync(runner);
            }
            else
            {
                runner.AddInstances(InstanceCount(resource), LaunchFor(runner), ConsoleCapacity);
                runner.StartAll();
            }

            try
            {
                await runner.Healthy.Task.WaitAsync(HealthTimeout, token);
            }
            catch (TimeoutException)
            {
                throw new AppHostException($"{resource.Name}: never became healthy within {HealthTimeout.TotalSeconds:0}s ({runner.LastProblem()})");
            }
        }
        catch (AppHostException ex)
        {
            Fail(ex);
            throw;
        }
    }

    private async Task RunExternalAsync(ResourceRunner runner)
    {
        try
        {
            await runner.ProbeExternalAsync(_lifetime.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static int InstanceCount(IResource resource) => resource is ProjectResource project ? project.Replicas : 1;

    private Func<int, string, LaunchSpec> LaunchFor(ResourceRunner runner)
    {
        var resource = runner.Resource;
        var context = _context!;
        switch (resource)
        {
            case ProjectResource project:
                string dll;
                lock (_targetPaths)
                    dll = _targetPaths[project];
                var args = ArgsAnnotation.All(project);
                return (index, instanceId) => new LaunchSpec("dotnet", [dll, .. args.Select(a => a.GetValue(Values))],
                    Path.GetDirectoryName(project.ProjectPath)!, AspireEnvironment.ForProject(project, index, instanceId, context));
            case ExecutableResource executable:
                return (_, _) => new LaunchSpec(executable.Command, [.. ArgsAnnotation.All(executable).Select(a => a.GetValue(Values))],
                    executable.WorkingDirectory, AspireEnvironment.ForOther(executable, context));
            case ContainerResource container when runner.Launch is RunModeLaunch.Process process:
                return (_, _) =>
                {
                    var env = AspireEnvironment.ForOther(container, context);
                    foreach (var (name, value) in process.Environment)
                        env[name] = value.GetValue(Values);
                    return new LaunchSpec(process.Command, [.. process.Args.Select(a => a.GetValue(Values))], process.WorkingDirectory, env);
                };
            case ContainerResource container:
                return (_, instanceId) => DockerRun(container, instanceId, context);
            default:
                throw new InvalidOperationException($"{resource.Name}: cannot run a {resource.GetType().Name}");
        }
    }

    /// <summary>docker run --rm, one published loopback port per endpoint; env values travel in the docker CLI's environment, not argv.</summary>
    private LaunchSpec DockerRun(ContainerResource container, string instanceId, RunContext context)
    {
        var env = AspireEnvironment.ForOther(container, context);
        var args = new List<string> { "run", "--rm", "--name", $"finetune-{container.Name}-{instanceId}" };
        foreach (var endpoint in container.Annotations.OfKind<EndpointAnnotation>())
        {
            var allocated = Values.Endpoint(container, endpoint.Name, 0);
            args.AddRange(["-p", $"127.0.0.1:{allocated.Port}:{allocated.TargetPort}"]);
        }
        foreach (var name in env.Where(e => e.Value is not null).Select(e => e.Key))
            args.AddRange(["-e", name]);
        foreach (var volume in container.Annotations.OfKind<VolumeAnnotation>())
            args.AddRange(["-v", $"{volume.Name}:{volume.Target}{(volume.ReadOnly ? ":ro" : "")}"]);
        foreach (var shared in container.Annotations.OfKind<SharedVolumeAnnotation>())
            args.AddRange(["-v", $"{context.SharedVolumePath(shared.Volume)}:{shared.Volume.MountPath}"]);
        if (container.Entrypoint is not null)
            args.AddRange(["--entrypoint", container.Entrypoint]);
        args.Add(container.ImageReference);
        args.AddRange(ArgsAnnotation.All(container).Select(a => a.GetValue(Values)));
        return new LaunchSpec("docker", args, _model.StateDirectory, env);
    }

    /// <summary>Stops every resource, dependants before what they depend on, then the dashboard. Idempotent.</summary>
    public async Task StopAllAsync()
    {
        lock (_lifetime)
        {
            if (_stopped)
                return;
            _stopped = true;
        }
        _lifetime.Cancel();
        var running = _runners.Where(r => r.Instances.Any(i => i.ProcessId is not null)).ToList();
        if (running.Count > 0)
            Announce($"stopping {running.Count} resources");
        foreach (var level in StopOrder())
            await Task.WhenAll(level.Select(r => r.StopAllAsync(StopTimeout)));
        if (_dashboard is not null)
            await _dashboard.DisposeAsync();
        if (running.Count > 0)
            Announce("stopped");
    }

    /// <summary>Groups of resources to stop together: first those nothing depends on, last those everything depends on.</summary>
    private List<List<ResourceRunner>> StopOrder()
    {
        var remaining = _runners.ToList();
        var levels = new List<List<ResourceRunner>>();
        while (remaining.Count > 0)
        {
            var level = remaining.Where(r => !remaining.Any(other => other != r && DependsOn(other.Resource, r.Resource))).ToList();
            if (level.Count == 0)
                level = remaining.ToList(); // a reference cycle: stop the rest together
            levels.Add(level);
            remaining.RemoveAll(level.Contains);
        }
        return levels;
    }

    private static bool DependsOn(IResource dependant, IResource dependency) =>
        dependant.Annotations.OfKind<WaitAnnotation>().Any(w => w.Dependency == dependency)
        || dependant.Annotations.OfKind<ReferenceAnnotation>().Any(r => r.Source == dependency);

    private void CheckForCycles()
    {
        var visiting = new HashSet<IResource>();
        var done = new HashSet<IResource>();
        void Visit(IResource resource, List<string> path)
        {
            if (done.Contains(resource))
                return;
            if (!visiting.Add(resource))
                throw new AppHostException($"{resource.Name}: WaitFor cycle: {string.Join(" -> ", path.Append(resource.Name))}");
            foreach (var wait in resource.Annotations.OfKind<WaitAnnotation>())
                Visit(wait.Dependency, [.. path, resource.Name]);
            visiting.Remove(resource);
            done.Add(resource);
        }
        foreach (var resource in _model.Resources)
            Visit(resource, []);
    }

    private void PrintSummary(TimeSpan elapsed)
    {
        foreach (var runner in _runners)
        {
            var snapshot = runner.Snapshot();
            var detail = runner.Launch switch
            {
                RunModeLaunch.Process p => p.Description,
                RunModeLaunch.External e => $"external {e.Url}",
                RunModeLaunch.Unavailable u => u.Reason,
                _ => runner.Instances.Count > 1 ? $"{runner.Instances.Count} replicas" : runner.Type,
            };
            Announce($"{snapshot.Name,-12} {snapshot.State,-12} {string.Join(", ", snapshot.Endpoints)}  [{detail}]");
        }
        var where = Dashboard is not null ? $" Dashboard: {Dashboard.BrowserUrl}." : "";
        Announce($"ready in {elapsed.TotalSeconds:0.0}s.{where} Press Ctrl+C to stop.");
    }

    internal void Announce(string message)
    {
        lock (_output)
            _output.WriteLine($"apphost: {message}");
    }

    internal void Fail(AppHostException exception) => _fatal.TrySetException(exception);

    internal void OnChanged(ResourceRunner runner) => ResourceChanged?.Invoke(runner.Snapshot());

    internal void OnLine(ConsoleLine line) => ConsoleLineWritten?.Invoke(line);

    // IResourceStateSource

    public IReadOnlyList<ResourceSnapshot> GetResources()
    {
        var list = new List<ResourceSnapshot>();
        foreach (var resource in _model.Resources)
        {
            var runner = _runners.FirstOrDefault(r => r.Resource == resource);
            if (runner is not null)
                list.Add(runner.Snapshot());
            else if (resource is ParameterResource)
                list.Add(new ResourceSnapshot(resource.Name, "parameter", "Active", null, [], [], null));
        }
        return list;
    }

    public IReadOnlyList<ConsoleLine> GetConsoleLogs(string resourceName, string? instanceId = null)
    {
        var runner = Find(resourceName);
        return [.. runner.Instances.Where(i => instanceId is null || i.InstanceId == instanceId)
            .SelectMany(i => i.Log.Snapshot()).OrderBy(l => l.Timestamp)];
    }

    public async Task ExecuteCommandAsync(string resourceName, string command, CancellationToken cancellationToken)
    {
        var runner = Find(resourceName);
        if (runner.IsUnavailable || runner.IsExternal || runner.Instances.Count == 0)
            throw new InvalidOperationException($"{resourceName}: has no process this AppHost controls ({runner.State}).");
        switch (command)
        {
            case "start" or "resource-start":
                runner.StartAll();
                break;
            case "stop" or "resource-stop":
                await runner.StopAllAsync(StopTimeout).WaitAsync(cancellationToken);
                break;
            case "restart" or "resource-restart":
                await runner.StopAllAsync(StopTimeout).WaitAsync(cancellationToken);
                runner.StartAll();
                break;
            default:
                throw new ArgumentException($"{resourceName}: unknown command '{command}' (start, stop, restart).", nameof(command));
        }
    }

    private ResourceRunner Find(string name) =>
        _runners.FirstOrDefault(r => string.Equals(r.Resource.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"No resource named '{name}'.", nameof(name));

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync();
        _lifetime.Dispose();
        _buildGate.Dispose();
    }
}
