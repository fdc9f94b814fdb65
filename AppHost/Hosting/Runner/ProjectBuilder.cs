// Our own AppHost engine: builds a project once, in the AppHost's own configuration, and returns the dll to run.
// One `dotnet build -getProperty:TargetPath -getTargetResult:Build` per project: the build and the output path in one
// call. No MSBuild node reuse and no shared compiler server, so the build leaves no process behind.

using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace FineTune.AppHost.Hosting.Runner;

internal static class ProjectBuilder
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Path, string Configuration), Lazy<Task<string>>> Built = new();

    /// <summary>Builds a project at most once per AppHost process (concurrent callers share the build); a failed build is retried next time.</summary>
    public static async Task<string> BuildOnceAsync(ProjectResource project, string configuration, CancellationToken cancellationToken)
    {
        var key = (project.ProjectPath, configuration);
        var build = Built.GetOrAdd(key, _ => new Lazy<Task<string>>(() => BuildAsync(project, configuration, CancellationToken.None)));
        try
        {
            return await build.Value.WaitAsync(cancellationToken);
        }
        catch (AppHostException)
        {
            Built.TryRemove(new KeyValuePair<(string, string), Lazy<Task<string>>>(key, build));
            throw;
        }
    }

    /// <summary>The output a previous build left (bin/&lt;configuration&gt;/&lt;this AppHost's framework&gt;/&lt;project&gt;.dll), without building.</summary>
    public static string BuiltOutput(ProjectResource project, string configuration)
    {
        var framework = new System.Runtime.Versioning.FrameworkName(AppContext.TargetFrameworkName ?? ".NETCoreApp,Version=v10.0");
        var path = Path.Combine(Path.GetDirectoryName(project.ProjectPath)!, "bin", configuration, $"net{framework.Version.Major}.{framework.Version.Minor}",
            Path.GetFileNameWithoutExtension(project.ProjectPath) + ".dll");
        return File.Exists(path)
            ? path
            : throw new AppHostException($"{project.Name}: AppHost:BuildProjects is false but {path} does not exist (build {Path.GetFileName(project.ProjectPath)} in {configuration} first)");
    }

    public static async Task<string> BuildAsync(ProjectResource project, string configuration, CancellationToken cancellationToken)
    {
        var output = new StringBuilder();
        var spec = new LaunchSpec(
            "dotnet",
            ["build", project.ProjectPath, "-c", configuration, "-nologo", "-v", "q", "-nodeReuse:false",
                "-p:UseSharedCompilation=false", "-getProperty:TargetPath", "-getTargetResult:Build"],
            Path.GetDirectoryName(project.ProjectPath)!,
            new Dictionary<string, string?>
            {
                ["MSBUILDDISABLENODEREUSE"] = "1",
                ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
                ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                ["DOTNET_NOLOGO"] = "1",
            });
        using var build = ChildProcess.Start(spec, (line, _) => { lock (output) output.AppendLine(line); });
        int exitCode;
        try
        {
            exitCode = await build.Exited.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await build.StopAsync(TimeSpan.FromSeconds(5));
            throw;
        }
        build.Kill(); // anything the build left in its process group

        var text = output.ToString();
        var targetPath = ReadTargetPath(text);
        if (exitCode != 0 || targetPath is null || !File.Exists(targetPath))
            throw new AppHostException($"{project.Name}: project failed to build ({Path.GetFileName(project.ProjectPath)}): {FirstError(text, exitCode)}");
        return targetPath;
    }

    private static string? ReadTargetPath(string output)
    {
        var start = output.IndexOf('{');
        var end = output.LastIndexOf('}');
        if (start < 0 || end <= start)
            return null;
        try
        {
            using var json = JsonDocument.Parse(output[start..(end + 1)]);
            var root = json.RootElement;
            if (root.TryGetProperty("TargetResults", out var results)
                && results.GetProperty("Build").GetProperty("Result").GetString() != "Success")
                return null;
            return root.GetProperty("Properties").GetProperty("TargetPath").GetString();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string FirstError(string output, int exitCode)
    {
        var line = output.Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.Contains(": error ", StringComparison.Ordinal) || l.StartsWith("error ", StringComparison.OrdinalIgnoreCase));
        return line ?? $"dotnet build exited with code {exitCode}";
    }
}
