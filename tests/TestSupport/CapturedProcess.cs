using System.Diagnostics;
using System.Text;

namespace FineTune.Tests;

/// <summary>
/// A child process with its standard output and error collected as they arrive (each separately, and both interleaved),
/// for the test helpers that run real programs: <see cref="ServiceProcess"/>, <see cref="TrainerReplica"/> and the
/// AppHost runners of the AppHost and main-job tests.
/// </summary>
public sealed class CapturedProcess : IDisposable
{
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _both = new();

    private CapturedProcess(Process process) => Process = process;

    public Process Process { get; }

    public string Stdout { get { lock (_both) return _stdout.ToString(); } }

    public string Stderr { get { lock (_both) return _stderr.ToString(); } }

    /// <summary>Both streams, line by line in arrival order.</summary>
    public string Output { get { lock (_both) return _both.ToString(); } }

    /// <summary>The dotnet host running the tests (so children use the same runtime), else "dotnet" from PATH.</summary>
    public static string DotnetHost =>
        Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";

    /// <summary>
    /// <c>dotnet</c> (<see cref="DotnetHost"/>) started through <c>env --default-signal=INT,QUIT</c>: a test run launched
    /// in the background of a non-interactive shell (nohup …&amp;) inherits SIGINT and SIGQUIT as ignored, and .NET keeps an
    /// ignored signal ignored, so a child that must react to Ctrl+C gets the default disposition back first. Add the
    /// program's arguments to the returned start info.
    /// </summary>
    public static ProcessStartInfo DotnetWithDefaultSignals()
    {
        var start = new ProcessStartInfo("env");
        start.ArgumentList.Add("--default-signal=INT,QUIT");
        start.ArgumentList.Add(DotnetHost);
        return start;
    }

    /// <summary>Starts <paramref name="start"/> with both streams redirected and collected.</summary>
    public static CapturedProcess Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var captured = new CapturedProcess(process);
        process.OutputDataReceived += (_, e) => captured.Append(captured._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => captured.Append(captured._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return captured;
    }

    private void Append(StringBuilder stream, string? line)
    {
        if (line is null) return;
        lock (_both)
        {
            stream.AppendLine(line);
            _both.AppendLine(line);
        }
    }

    /// <summary>kill -9 of the process and its children; waits until it is gone.</summary>
    public void KillHard()
    {
        if (Process.HasExited) return;
        Process.Kill(entireProcessTree: true);
        Process.WaitForExit();
    }

    public void Dispose()
    {
        KillHard();
        Process.Dispose();
    }
}
