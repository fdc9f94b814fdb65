using FineTune.AppHost.Hosting;

namespace FineTune.Dashboard.Tests;

/// <summary>
/// A stand-in for the AppHost runner: holds resource snapshots and console lines the test sets, raises the events the
/// dashboard listens to, and records the commands it receives (a restart bumps the restart count, as the runner would).
/// </summary>
public sealed class TestResourceSource : IResourceStateSource
{
    private readonly Lock _gate = new();
    private readonly List<ResourceSnapshot> _resources = [];
    private readonly List<ConsoleLine> _lines = [];

    public List<(string Resource, string Command)> Commands { get; } = [];

    public event Action<ResourceSnapshot>? ResourceChanged;
    public event Action<ConsoleLine>? ConsoleLineWritten;

    public static TestResourceSource Healthy(DateTimeOffset started)
    {
        var source = new TestResourceSource();
        source.Set(Resource("redis", "executable", started, "tcp://localhost:6390", "redis-1a2b3c4d"));
        source.Set(Resource("dataset", "project", started, "http://localhost:5101", "dataset-8f0e1d2c"));
        source.Set(Resource("preprocess", "project", started, null, "preprocess-0a1b2c3d"));
        source.Set(Resource("trainer", "project", started, null, "trainer-aaaa1111", "trainer-bbbb2222"));
        source.Set(Resource("export", "project", started, null, "export-5e6f7a8b"));
        return source;
    }

    public static ResourceSnapshot Resource(string name, string type, DateTimeOffset started, string? endpoint, params string[] instances) =>
        new(name, type, "Running", "Healthy", endpoint is null ? [] : [endpoint],
            [.. instances.Select((id, i) => new InstanceSnapshot(id, 4000 + i, "Running", 0, started, endpoint))], null);

    public void Set(ResourceSnapshot snapshot)
    {
        lock (_gate)
        {
            var i = _resources.FindIndex(r => r.Name == snapshot.Name);
            if (i >= 0) _resources[i] = snapshot; else _resources.Add(snapshot);
        }
        ResourceChanged?.Invoke(snapshot);
    }

    public void Write(string resource, string instance, string text, bool isError = false)
    {
        var line = new ConsoleLine(resource, instance, DateTimeOffset.UtcNow, isError, text);
        lock (_gate) _lines.Add(line);
        ConsoleLineWritten?.Invoke(line);
    }

    public IReadOnlyList<ResourceSnapshot> GetResources()
    {
        lock (_gate) return [.. _resources];
    }

    public IReadOnlyList<ConsoleLine> GetConsoleLogs(string resourceName, string? instanceId = null)
    {
        lock (_gate) return [.. _lines.Where(l => l.Resource == resourceName && (instanceId is null || l.InstanceId == instanceId))];
    }

    public Task ExecuteCommandAsync(string resourceName, string command, CancellationToken cancellationToken)
    {
        ResourceSnapshot current;
        lock (_gate)
        {
            Commands.Add((resourceName, command));
            current = _resources.Single(r => r.Name == resourceName);
        }
        if (command == "restart")
            Set(current with { Instances = [.. current.Instances.Select(i => i with { Restarts = i.Restarts + 1, StartedAt = DateTimeOffset.UtcNow })] });
        else if (command == "stop")
            Set(current with { State = "Exited", HealthStatus = null, Instances = [.. current.Instances.Select(i => i with { State = "Exited", ProcessId = null })] });
        else if (command == "start")
            Set(current with { State = "Running", HealthStatus = "Healthy", Instances = [.. current.Instances.Select(i => i with { State = "Running" })] });
        return Task.CompletedTask;
    }
}
