using System.Diagnostics;

namespace FineTune.Tests;

/// <summary>
/// One real trainer replica: the Trainer.Worker program as a child process, with the environment the AppHost gives it.
/// Usable from a test project that references Trainer.Worker (so Trainer.Worker.dll sits in the test output).
/// </summary>
public sealed class TrainerReplica : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private TrainerReplica(string instanceId, Process process)
    {
        InstanceId = instanceId;
        _process = process;
    }

    public string InstanceId { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return string.Join('\n', _output); }
    }

    public static TrainerReplica Start(string instanceId, string redisConnectionString, string dataRoot, TimeSpan lease,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Trainer.Worker.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        psi.Environment["ConnectionStrings__redis"] = redisConnectionString;
        psi.Environment["FineTune__DataRoot"] = dataRoot;
        psi.Environment["OTEL_SERVICE_NAME"] = "trainer";
        psi.Environment["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={instanceId}";
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePort.Next()}";
        psi.Environment["Trainer__LeaseTime"] = lease.ToString("c");
        psi.Environment["Trainer__ClaimInterval"] = TimeSpan.FromMilliseconds(250).ToString("c");
        psi.Environment["Trainer__HeartbeatInterval"] = TimeSpan.FromSeconds(1).ToString("c");
        psi.Environment["Trainer__MaxAttempts"] = "2";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the trainer");
        var replica = new TrainerReplica(instanceId, process);
        process.OutputDataReceived += (_, e) => replica.Append(e.Data);
        process.ErrorDataReceived += (_, e) => replica.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return replica;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }

    /// <summary>kill -9: no chance to checkpoint or release anything.</summary>
    public void KillHard()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as Kubernetes sends on a drain; waits for the process to exit.</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    public void Dispose()
    {
        if (!_process.HasExited) KillHard();
        _process.Dispose();
    }
}
