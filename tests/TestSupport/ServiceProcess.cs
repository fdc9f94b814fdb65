using System.Diagnostics;

namespace FineTune.Tests;

/// <summary>
/// One real service process (a worker's dll from the test output, run with <c>dotnet</c>) with the environment the AppHost
/// gives it: Redis connection string, data root, service name and instance id, a free port. Usable from a test project that
/// references the service (so its dll sits in the test output). <see cref="TrainerReplica"/> is the trainer's own variant.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly CapturedProcess _process;

    private ServiceProcess(CapturedProcess process) => _process = process;

    public int ProcessId => _process.Process.Id;

    public bool HasExited => _process.Process.HasExited;

    /// <summary>Its console (stdout and stderr interleaved).</summary>
    public string Output => _process.Output;

    /// <param name="instanceId">The replica's service.instance.id (default: <c>{serviceName}-0</c>).</param>
    public static ServiceProcess Start(string assembly, string serviceName, string redisConnectionString, string dataRoot,
        IReadOnlyDictionary<string, string>? environment = null, string? instanceId = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assembly + ".dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is not in the test output (reference the project)", dll);
        var psi = new ProcessStartInfo("dotnet");
        psi.ArgumentList.Add(dll);
        psi.Environment["ConnectionStrings__redis"] = redisConnectionString;
        psi.Environment["FineTune__DataRoot"] = dataRoot;
        psi.Environment["OTEL_SERVICE_NAME"] = serviceName;
        psi.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId ?? serviceName + "-0"}";
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        return new ServiceProcess(CapturedProcess.Start(psi));
    }

    /// <summary>kill -9: no chance to checkpoint or release anything.</summary>
    public void KillHard() => _process.KillHard();

    /// <summary>SIGTERM, as Kubernetes sends on a drain; waits (bounded) for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", ProcessId.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.Process.WaitForExitAsync(cts.Token);
    }

    public void Dispose() => _process.Dispose();
}
