using System.Diagnostics;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>Runs a program to completion (bounded), capturing its output.</summary>
internal static class ProcessRun
{
    public static (int ExitCode, string Stdout, string Stderr) Run(string fileName, IEnumerable<string> args, string missingHint, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{fileName} could not be started: {missingHint}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within 2 minutes");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}

/// <summary>Runs the kubectl on PATH (eng/prereqs.sh installs Debian's kubernetes-client) for offline commands only.</summary>
internal static class Kubectl
{
    // Offline: 'kustomize' reads no kubeconfig, and none could be reached anyway.
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        ProcessRun.Run("kubectl", args, "kubectl is not on PATH: run eng/prereqs.sh (Debian package kubernetes-client).",
            new Dictionary<string, string> { ["KUBECONFIG"] = "/dev/null" });

    /// <summary>kubectl kustomize &lt;dir&gt;: the built stream of objects, or an assertion failure with kubectl's error.</summary>
    public static string Kustomize(string directory)
    {
        var (code, stdout, stderr) = Run("kustomize", directory);
        Assert.True(code == 0, $"kubectl kustomize {directory} failed ({code}): {stderr}");
        return stdout;
    }
}

/// <summary>The real AppHost (Program.cs's app model), run as the user runs it, in publish mode.</summary>
internal static class AppHostPublish
{
    public static void Kubernetes(string outputPath, params string[] extraArgs)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "AppHost.dll");
        var (code, stdout, stderr) = ProcessRun.Run("dotnet", [dll, "--publisher", "kubernetes", "--output-path", outputPath, .. extraArgs],
            "the dotnet host is not on PATH.");
        Assert.True(code == 0, $"AppHost --publisher kubernetes failed ({code}):\n{stdout}\n{stderr}");
    }
}
