// Our own AppHost engine: one child process in its own session and process group (started through setsid), so
// that stopping it reaches everything it started: SIGTERM to the group, a grace period, then SIGKILL to the group.
// stdout and stderr arrive line by line through OnLine.

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FineTune.AppHost.Hosting.Runner;

/// <summary>What to start: program, arguments, working directory and the complete environment overrides.</summary>
public sealed record LaunchSpec(string FileName, IReadOnlyList<string> Args, string WorkingDirectory, IReadOnlyDictionary<string, string?> Environment);

internal sealed partial class ChildProcess : IDisposable
{
    private const int SIGTERM = 15;
    private const int SIGKILL = 9;
    private static readonly string? SetSid = PathLookup.Find("setsid");

    private readonly Process _process;

    private ChildProcess(Process process, bool ownGroup)
    {
        _process = process;
        Pid = process.Id;
        OwnGroup = ownGroup;
        Exited = _process.WaitForExitAsync().ContinueWith(_ => _process.ExitCode, TaskScheduler.Default);
    }

    public int Pid { get; }

    /// <summary>True when the child leads its own process group (pgid == pid).</summary>
    public bool OwnGroup { get; }

    /// <summary>Completes with the exit code once the process has exited.</summary>
    public Task<int> Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    public static ChildProcess Start(LaunchSpec spec, Action<string, bool> onLine)
    {
        var psi = new ProcessStartInfo
        {
            FileName = SetSid ?? spec.FileName,
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (SetSid is not null)
            psi.ArgumentList.Add(spec.FileName);
        foreach (var arg in spec.Args)
            psi.ArgumentList.Add(arg);
        foreach (var (name, value) in spec.Environment)
        {
            if (value is null)
                psi.Environment.Remove(name);
            else
                psi.Environment[name] = value;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data, false); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data, true); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(process, SetSid is not null);
        Live.TryAdd(child.Pid, child);
        _ = child.Exited.ContinueWith(_ => Live.TryRemove(child.Pid, out ChildProcess? _), TaskScheduler.Default);
        return child;
    }

    /// <summary>SIGTERM to the group, wait up to <paramref name="grace"/>, then SIGKILL to the group; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        Signal(SIGTERM);
        var finished = await Task.WhenAny(Exited, Task.Delay(grace));
        if (finished != Exited)
            Signal(SIGKILL);
        var code = await Exited;
        Signal(SIGKILL); // grandchildren that outlived the leader
        return code;
    }

    public void Kill() => Signal(SIGKILL);

    private void Signal(int signal)
    {
        if (OwnGroup)
        {
            _ = kill(-Pid, signal); // ESRCH once the group is empty: nothing left to stop
        }
        else if (!Exited.IsCompleted)
        {
            try
            {
                if (signal == SIGKILL)
                    _process.Kill(entireProcessTree: true); // no setsid here: walk the tree instead
                else
                    _ = kill(Pid, signal);
            }
            catch (InvalidOperationException)
            {
                // exited (or disposed) meanwhile
            }
        }
    }

    public void Dispose() => _process.Dispose();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    // Every child still alive, so that an AppHost that exits abnormally still takes them down (ProcessExit hook).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, ChildProcess> Live = new();

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var child in Live.Values)
                child.Kill();
        };
    }
}
