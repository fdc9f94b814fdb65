// Hand-written: Aspire 13.6 has no public "is a container runtime answering?" check (DCP only finds out when it starts a
// container, and then that resource fails as "Runtime unhealthy"). The AppHost asks once, before choosing how Redis and
// Ollama run: `<runtime> info` within a few seconds, runtime from DcpPublisher:ContainerRuntime (Aspire's own setting),
// else docker. AppHost:ContainerRuntime=none|available overrides the probe (tests, CI).

using System.Diagnostics;
using Microsoft.Extensions.Configuration;

namespace FineTune.AppHost.Infrastructure;

public static class ContainerRuntime
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>True when containers can run here: publish mode always (the manifest describes containers), run mode when the runtime answers.</summary>
    public static bool CanRunContainers(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode) return true;
        var forced = builder.Configuration["AppHost:ContainerRuntime"];
        if (string.Equals(forced, "none", StringComparison.OrdinalIgnoreCase)) return false;
        if (string.Equals(forced, "available", StringComparison.OrdinalIgnoreCase)) return true;
        return Answers(builder.Configuration["DcpPublisher:ContainerRuntime"] ?? "docker");
    }

    private static bool Answers(string runtime)
    {
        try
        {
            var start = new ProcessStartInfo(runtime, "info") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null) return false;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(ProbeTimeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }

    /// <summary>The first <paramref name="program"/> on PATH, or null.</summary>
    public static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}
