using System.Diagnostics;
using System.Reflection;

namespace FineTune.AppHost.Tests;

/// <summary>The TestAppHost program (TestApps/TestAppHost) as a real child process, with its output collected.</summary>
public sealed class AppHostProcess : IDisposable
{
    private readonly CapturedProcess _process;

    public AppHostProcess(string model, string stateDirectory, IDictionary<string, string>? environment = null, params string[] args)
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var dll = Path.Combine(TestAppModel.TestAppsDirectory, "TestAppHost", "bin", configuration, "net10.0", "TestAppHost.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"TestAppHost was not built: {dll}");
        var psi = CapturedProcess.DotnetWithDefaultSignals();   // it must stop on SIGINT, as on Ctrl+C
        foreach (var arg in new[] { dll, model, $"--AppHost:StateDirectory={stateDirectory}" }.Concat(args))
            psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        _process = CapturedProcess.Start(psi);
    }

    public Process Process => _process.Process;

    public string Stdout => _process.Stdout;

    public string Stderr => _process.Stderr;

    public Task WaitForReadyAsync(TimeSpan bound) =>
        Eventually.UntilAsync(() =>
        {
            if (Process.HasExited)
                throw new Xunit.Sdk.XunitException($"The AppHost exited with code {Process.ExitCode} before it was ready.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            return Stdout.Contains("apphost: ready in");
        }, bound, "the AppHost to print 'ready'");

    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        await Process.WaitForExitAsync().WaitAsync(bound);
        Process.WaitForExit(); // drain the output
        return Process.ExitCode;
    }

    public void Dispose() => _process.Dispose();
}
