using System.Text.Json;
using System.Text.RegularExpressions;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>
/// The Dockerfiles cannot be built here (no Docker engine, no registry), so what can go wrong without building is
/// checked: every project of the app model has one, it publishes that project, it copies only what exists, it runs
/// the assembly the project produces, and TorchSharp projects get the backend switch and a libstdc++ new enough.
/// </summary>
public sealed class ContainerRecipeTests : IDisposable
{
    private readonly TempDirectory _temp = new("ft-k8s-recipes");

    public void Dispose() => _temp.Dispose();

    private Dictionary<string, string> ProjectsOfTheAppModel()
    {
        var manifest = _temp.File("aspire-manifest.json");
        var dll = Path.Combine(AppContext.BaseDirectory, "AppHost.dll");
        var (code, stdout, stderr) = ProcessRun.Run("dotnet", [dll, "--publisher", "manifest", "--output-path", manifest], "dotnet");
        Assert.True(code == 0, $"manifest publisher failed: {stdout}{stderr}");
        using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
        var projects = new Dictionary<string, string>();
        foreach (var r in doc.RootElement.GetProperty("resources").EnumerateObject())
            if (r.Value.GetProperty("type").GetString() == "project.v0")
                projects[r.Name] = Path.GetFullPath(r.Value.GetProperty("path").GetString()!, Path.GetDirectoryName(manifest)!); // relative to the manifest
        return projects;
    }

    [Fact]
    public void EveryProjectOfTheAppModelHasADockerfileThatPublishesAndRunsIt()
    {
        var projects = ProjectsOfTheAppModel();
        Assert.Equal(["dataset", "export", "preprocess", "trainer"], projects.Keys.Order());
        foreach (var (name, csproj) in projects)
        {
            Assert.True(File.Exists(csproj), $"{name}: project {csproj} not found");
            var dockerfile = Path.Combine(Path.GetDirectoryName(csproj)!, "Dockerfile");
            Assert.True(File.Exists(dockerfile), $"{name}: no Dockerfile beside {csproj}");
            var text = File.ReadAllText(dockerfile);
            var relative = Path.GetRelativePath(Repo.Root, csproj).Replace('\\', '/');

            Assert.Matches(new Regex($@"RUN dotnet publish {Regex.Escape(relative)} -c Release -r linux-x64"), text);
            Assert.Contains($"ENTRYPOINT [\"dotnet\", \"{Path.GetFileNameWithoutExtension(csproj)}.dll\"]", text);
            Assert.Contains($"-t finetune/{name}:latest", text); // the image name the publisher writes
            Assert.Contains("USER $APP_UID", text);

            foreach (Match copy in Regex.Matches(text, @"^COPY (?!--from)(?<args>.+)$", RegexOptions.Multiline))
            {
                var sources = copy.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1];
                foreach (var source in sources)
                    Assert.True(File.Exists(Path.Combine(Repo.Root, source)) || Directory.Exists(Path.Combine(Repo.Root, source)), $"{dockerfile}: COPY source '{source}' does not exist");
            }

            var usesTorch = File.ReadAllText(csproj).Contains("<UsesTorchSharp>true</UsesTorchSharp>", StringComparison.Ordinal);
            if (usesTorch)
            {
                Assert.Contains("-p:TorchSharpBackend=${TORCHSHARP_BACKEND}", text);
                Assert.Matches(new Regex(@"^FROM mcr\.microsoft\.com/dotnet/aspnet:\$\{DOTNET_VERSION\}-noble$", RegexOptions.Multiline), text);
            }
        }
    }

    [Fact]
    public void TrainerRecipeSaysHowToBuildTheCudaImage()
    {
        var text = File.ReadAllText(Path.Combine(Repo.Root, "services", "Trainer.Worker", "Dockerfile"));
        Assert.Contains("TorchSharp-cuda-linux", text);
        Assert.Contains("--build-arg TORCHSHARP_BACKEND=cuda -t finetune/trainer:latest-cuda", text);
        // Directory.Build.targets must map that switch to the CUDA package, or the build arg does nothing.
        var targets = File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.targets"));
        Assert.Contains("'$(TorchSharpBackend)' == 'cuda'", targets);
        Assert.Contains("TorchSharp-cuda-linux", targets);
    }
}
