using System.Diagnostics;

namespace FineTune.Models.Core.Tests.Tokenizers;

/// <summary>Runs a reference script from eng/node (the real @huggingface packages) and returns its stdout.</summary>
internal static class NodeReference
{
    public static string Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = Repo.NodeTools,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.NodeTools, script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish within 2 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"node {script} exited with {process.ExitCode}: {stderr.Result}");
        return stdout;
    }
}
