using System.Diagnostics;

namespace FineTune.Tests;

/// <summary>
/// One real service process (a worker's dll from the test output, run with <c>dotnet</c>) with the environment the AppHost
/// gives it: Redis connection string, data root, service name and instance id, a free port. Usable from a test project that
/// references the service (so its dll sits in the test output). <see cref="TrainerReplica"/> is the trainer's own variant.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServiceProcess(Process process) => _process = process;

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public static ServiceProcess Start(string assembly, string serviceName, string redisConnectionString, string dataRoot,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, assembly + ".dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"{dll} is not in the test output (reference the project)", dll);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.Environment["ConnectionStrings__redis"] = redisConnectionString;
        psi.Environment["FineTune__DataRoot"] = dataRoot;
        psi.Environment["OTEL_SERVICE_NAME"] = serviceName;
        psi.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={serviceName}-0";
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {assembly}");
        var service = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}
