using System.Diagnostics;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>Runs the kubectl on PATH (eng/prereqs.sh installs Debian's kubernetes-client) for offline commands only.</summary>
internal static class Kubectl
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        // Offline: no kubeconfig is read for 'kustomize', but make sure none is reached either.
        psi.Environment["KUBECONFIG"] = "/dev/null";
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("kubectl was not found on PATH: run eng/prereqs.sh (Debian package kubernetes-client).", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish within 2 minutes");
            }
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    /// <summary>kubectl kustomize &lt;dir&gt;: the built stream of objects, or an assertion failure with kubectl's error.</summary>
    public static string Kustomize(string directory)
    {
        var (code, stdout, stderr) = Run("kustomize", directory);
        Assert.True(code == 0, $"kubectl kustomize {directory} failed ({code}): {stderr}");
        return stdout;
    }
}
