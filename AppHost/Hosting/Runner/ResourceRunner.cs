// Our own AppHost engine: runs one resource of the app model — its instances (one per replica), its readiness
// (healthy when every instance has answered its health probe), and its start/stop/restart commands.

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class ResourceRunner
{
    private readonly AppHostRunner _host;
    private IReadOnlyList<InstanceRunner> _instances = []; // replaced, never mutated: snapshots read it from other threads
    private string? _externalHealth;

    public ResourceRunner(AppHostRunner host, IResource resource, RunModeLaunch? launch, string type)
    {
        _host = host;
        Resource = resource;
        Launch = launch;
        Type = type;
        Probe = resource.Annotations.Last<HealthProbeAnnotation>()?.Probe;
    }

    public IResource Resource { get; }

    /// <summary>How a container resource runs here (null for projects and executables).</summary>
    public RunModeLaunch? Launch { get; }

    public string Type { get; }

    public IHealthProbe? Probe { get; }

    public TimeSpan HealthInterval => _host.HealthInterval;

    public IReadOnlyList<InstanceRunner> Instances => _instances;

    /// <summary>Why the resource is not running, when it cannot (Unavailable) or failed.</summary>
    public string? Reason { get; set; }

    public string? OverrideState { get; set; }

    /// <summary>Set once every instance has been healthy at least once (what WaitFor waits on).</summary>
    public TaskCompletionSource Healthy { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsUnavailable => Launch is RunModeLaunch.Unavailable;

    public bool IsExternal => Launch is RunModeLaunch.External;

    public void AddInstances(int count, Func<int, string, LaunchSpec> spec, int consoleCapacity)
    {
        _instances = [.. Enumerable.Range(0, count).Select(i => new InstanceRunner(this, i, spec, consoleCapacity))];
    }

    public HealthProbeContext ProbeContext(int instance) => new(Resource, instance, _host.Values);

    public void StartAll()
    {
        OverrideState = null;
        foreach (var instance in _instances)
            instance.Start();
        _ = Task.WhenAll(_instances.Select(i => i.HealthyOnce.Task)).ContinueWith(_ => Healthy.TrySetResult(), TaskScheduler.Default);
    }

    public async Task StopAllAsync(TimeSpan grace)
    {
        await Task.WhenAll(_instances.Select(i => i.StopAsync(grace)));
        Changed();
    }

    public string State
    {
        get
        {
            if (OverrideState is not null)
                return OverrideState;
            if (_instances.Count == 0)
                return "NotStarted";
            var states = _instances.Select(i => i.State).ToList();
            foreach (var state in new[] { "Running", "Starting", "Stopping", "FailedToStart", "Exited" })
                if (states.Contains(state))
                    return state;
            return states[0];
        }
    }

    public string? HealthStatus
    {
        get
        {
            if (IsExternal)
                return _externalHealth;
            var running = _instances.Where(i => i.State == "Running").ToList();
            if (running.Count == 0)
                return null;
            if (running.Any(i => i.Health == "Unhealthy"))
                return "Unhealthy";
            return running.All(i => i.Health == "Healthy") ? "Healthy" : null;
        }
    }

    /// <summary>An external endpoint has no process: probe it until healthy, then every health interval.</summary>
    public async Task ProbeExternalAsync(CancellationToken token)
    {
        OverrideState = "Running";
        Changed();
        while (!token.IsCancellationRequested)
        {
            var result = Probe is null ? HealthProbeResult.Ok : await Probe.ProbeAsync(ProbeContext(0), token);
            var health = result.Healthy ? "Healthy" : "Unhealthy";
            Reason = result.Reason;
            if (health != _externalHealth)
            {
                _externalHealth = health;
                Changed();
            }
            if (result.Healthy)
                Healthy.TrySetResult();
            await Task.Delay(result.Healthy ? HealthInterval : TimeSpan.FromMilliseconds(500), token);
        }
    }

    public string? LastProblem()
    {
        var instance = _instances.FirstOrDefault(i => i.Health != "Healthy");
        if (instance is null)
            return Reason;
        var lastError = instance.Log.Snapshot().LastOrDefault(l => l.IsError)?.Text ?? instance.Log.Snapshot().LastOrDefault()?.Text;
        var parts = new List<string>();
        if (instance.LastHealthReason is not null)
            parts.Add(instance.LastHealthReason);
        if (instance.LastExitCode is int code)
            parts.Add($"last exit code {code}");
        if (lastError is not null)
            parts.Add($"last output: {lastError.Trim()}");
        return parts.Count > 0 ? string.Join("; ", parts) : "no answer yet";
    }

    public void Changed() => _host.OnChanged(this);

    public void Line(ConsoleLine line) => _host.OnLine(line);

    public void ReportCrash(InstanceRunner instance, int exitCode, TimeSpan delay) =>
        _host.Announce($"{Resource.Name} ({instance.InstanceId}) exited with code {exitCode}; restarting in {delay.TotalSeconds:0}s (restart #{instance.Restarts + 1})");

    public void ReportStartFailure(InstanceRunner instance, string reason) =>
        _host.Fail(new AppHostException($"{Resource.Name}: failed to start ({reason})"));

    public ResourceSnapshot Snapshot()
    {
        var endpoints = new List<string>();
        var instances = new List<InstanceSnapshot>();
        foreach (var endpoint in Resource.Annotations.OfKind<EndpointAnnotation>())
            if (_host.Values.HasEndpoints(Resource, endpoint.Name))
                endpoints.AddRange(_host.Values.Endpoints(Resource, endpoint.Name).Select(e => e.Url));
        foreach (var instance in _instances)
        {
            var first = Resource.Annotations.OfKind<EndpointAnnotation>().FirstOrDefault();
            var url = first is not null && _host.Values.HasEndpoints(Resource, first.Name)
                ? _host.Values.Endpoint(Resource, first.Name, instance.Index).Url
                : null;
            instances.Add(instance.Snapshot(url));
        }
        return new ResourceSnapshot(Resource.Name, Type, State, HealthStatus, endpoints, instances, Reason);
    }
}
