using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace FineTune.AppHost.Tests;

/// <summary>The TestAppHost program (TestApps/TestAppHost) as a real child process, with its output collected.</summary>
public sealed class AppHostProcess : IDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    public AppHostProcess(string model, string stateDirectory, IDictionary<string, string>? environment = null, params string[] args)
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var dll = Path.Combine(TestAppModel.TestAppsDirectory, "TestAppHost", "bin", configuration, "net10.0", "TestAppHost.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"TestAppHost was not built: {dll}");
        var dotnet = Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        var psi = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, model, $"--AppHost:StateDirectory={stateDirectory}" }.Concat(args))
            psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            psi.Environment[name] = value;
        Process = Process.Start(psi)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

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

    public void Dispose()
    {
        if (!Process.HasExited)
            Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
