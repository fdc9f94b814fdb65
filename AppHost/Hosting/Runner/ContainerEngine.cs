// Our own AppHost engine: a Docker engine "answers" when `docker info` exits 0 within a few seconds.

using System.Diagnostics;

namespace FineTune.AppHost.Hosting.Runner;

internal static class ContainerEngine
{
    public static async Task<bool> IsAvailableAsync(CancellationToken cancellationToken)
    {
        var docker = PathLookup.Find("docker");
        if (docker is null)
            return false;
        var psi = new ProcessStartInfo(docker, ["info", "--format", "{{.ServerVersion}}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi);
        if (process is null)
            return false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        var drain = Task.WhenAll(process.StandardOutput.ReadToEndAsync(timeout.Token), process.StandardError.ReadToEndAsync(timeout.Token));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            await drain;
            return process.ExitCode == 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return false;
        }
    }
}
