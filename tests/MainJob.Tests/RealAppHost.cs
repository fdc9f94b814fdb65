using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace MainJob.Tests;

/// <summary>
/// The real AppHost (AppHost/Program.cs, its own build output) as a child process with a private state folder, free
/// dashboard ports and the services' existing outputs (AppHost:BuildProjects=false: this project's references built them in
/// the same configuration), with its console collected. Disposing stops it with SIGINT, as Ctrl+C would, then kills what is left.
/// </summary>
public sealed partial class RealAppHost : IDisposable
{
    private readonly CapturedProcess _process;

    public static string Configuration => typeof(RealAppHost).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    public RealAppHost(string stateDirectory, params string[] args)
    {
        var dll = Path.Combine(Repo.Root, "AppHost", "bin", Configuration, "net10.0", "AppHost.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the AppHost was not built: {dll}", dll);
        var psi = CapturedProcess.DotnetWithDefaultSignals();   // it must stop on SIGINT, as on Ctrl+C
        foreach (var arg in new[]
        {
            dll, $"--AppHost:StateDirectory={stateDirectory}", "--AppHost:BuildProjects=false", $"--AppHost:Configuration={Configuration}",
            "--Dashboard:UiPort=0", "--Dashboard:OtlpGrpcPort=0", "--Dashboard:OtlpHttpPort=0",
        }.Concat(args))
            psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_ENVIRONMENT"] = "Development";
        _process = CapturedProcess.Start(psi);
    }

    public Process Process => _process.Process;

    public string Stdout => _process.Stdout;

    public string Stderr => _process.Stderr;

    public string Describe() => $"AppHost stdout:\n{Stdout}\nstderr:\n{Stderr}";

    /// <summary>Waits (bounded) until the console has a line matching <paramref name="pattern"/>; returns the match.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var match = pattern.Match(Stdout);
            if (match.Success) return match;
            if (Process.HasExited)
                throw new Xunit.Sdk.XunitException($"the AppHost exited with code {Process.ExitCode} before printing /{pattern}/\n{Describe()}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no line /{pattern}/ within {bound}\n{Describe()}");
            await Task.Delay(200);
        }
    }

    /// <summary>The front door's address, from the resource summary the AppHost prints when everything is healthy.</summary>
    public async Task<Uri> WaitForFrontDoorAsync(TimeSpan bound) =>
        new((await WaitForLineAsync(FrontDoorLine(), bound)).Groups["url"].Value);

    [GeneratedRegex(@"^apphost: dataset\s+Running\s+(?<url>http://[^\s,]+)", RegexOptions.Multiline)]
    private static partial Regex FrontDoorLine();

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            using (var interrupt = Process.Start("kill", ["-INT", Process.Id.ToString()])) interrupt.WaitForExit();
            if (!Process.WaitForExit(TimeSpan.FromSeconds(30))) Process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
