using System.Diagnostics;

namespace FineTune.Tests;

/// <summary>
/// The ft command line as a user runs it: <c>ft.dll</c> beside the tests (in the projects that reference services/Cli)
/// in its own process, run to its end (bounded), with its exit code and both streams.
/// </summary>
public static class FtProcess
{
    /// <param name="endpoint">FT_ENDPOINT, the front door the job verbs talk to.</param>
    /// <param name="stdin">Written to its standard input, which is then closed (closed at once when null).</param>
    public static async Task<(int Code, string Out, string Err)> RunAsync(IEnumerable<string> args, Uri? endpoint = null, string? stdin = null)
    {
        var start = new ProcessStartInfo(CapturedProcess.DotnetHost)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ft.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        if (endpoint is not null) start.Environment["FT_ENDPOINT"] = endpoint.ToString();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ft");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(bound.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
