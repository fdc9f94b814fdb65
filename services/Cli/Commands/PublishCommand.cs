using System.CommandLine;
using System.Diagnostics;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft publish --publisher kubernetes|manifest --output-path DIR [--apphost PATH]</c>: writes the deployment from the app
/// model. The app model is AppHost/Program.cs, so this runs the AppHost's own publisher (the one implementation) and
/// passes its output through: a built AppHost.dll is run with <c>dotnet</c>, a project with <c>dotnet run</c>. Options this
/// verb does not know (<c>--image-registry</c>, <c>--image-tag</c>, <c>--storage-class</c>, <c>--Parameters:name=value</c>…,
/// docs/deploy.md) go to the AppHost unchanged.
/// </summary>
public static class PublishCommand
{
    public static readonly string[] Publishers = ["kubernetes", "manifest"];

    public static Command Create()
    {
        var publisher = new Option<string>("--publisher") { Description = "kubernetes (a kustomize folder) or manifest (aspire-manifest.json)", Required = true };
        publisher.AcceptOnlyFromAmong(Publishers);
        var output = new Option<string>("--output-path") { Description = "Where to write: a folder for kubernetes, a folder or .json file for manifest", Required = true };
        var apphost = new Option<string?>("--apphost") { Description = "AppHost project (folder or .csproj) or built AppHost.dll; default: AppHost/ in this folder or a parent" };
        var command = new Command("publish", "Write Kubernetes manifests or aspire-manifest.json from the AppHost's app model (other options go to the AppHost's publisher)")
        {
            publisher, output, apphost,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = Path.GetFullPath(parse.GetValue(output)!);
            var start = StartInfo(ResolveAppHost(parse.GetValue(apphost)), ["--publisher", parse.GetValue(publisher)!, "--output-path", target, .. parse.UnmatchedTokens]);
            using var process = Process.Start(start) ?? throw new CliException("ft: could not start dotnet (is it on PATH?)");
            await process.WaitForExitAsync(cancellationToken);
            if (process.ExitCode != 0) throw new CliException($"the AppHost publisher failed with exit code {process.ExitCode} (its output is above)");
            await Console.Error.WriteLineAsync($"ft: published {parse.GetValue(publisher)} to {target}");
            return 0;
        });
        return command;
    }

    /// <summary>The AppHost to run: the given project, folder or dll, else AppHost/AppHost.csproj here or in a parent folder.</summary>
    public static string ResolveAppHost(string? given)
    {
        if (given is not null)
        {
            var path = Path.GetFullPath(given);
            if (Directory.Exists(path)) path = Path.Combine(path, "AppHost.csproj");
            if (!File.Exists(path)) throw new CliException($"{given}: no AppHost project or dll there (--apphost takes AppHost/, AppHost.csproj or AppHost.dll)");
            if (!path.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) && !path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                throw new CliException($"{given}: --apphost must be a folder, a .csproj or a .dll");
            return path;
        }
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "AppHost", "AppHost.csproj");
            if (File.Exists(candidate)) return candidate;
        }
        throw new CliException($"no AppHost/AppHost.csproj in {Environment.CurrentDirectory} or its parents (give --apphost)");
    }

    private static ProcessStartInfo StartInfo(string apphost, string[] publishArgs)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
        if (apphost.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(apphost);
        else
            foreach (var a in (string[])["run", "--project", apphost, "-c", "Release", "--"]) start.ArgumentList.Add(a);
        foreach (var a in publishArgs) start.ArgumentList.Add(a);
        return start;
    }
}
