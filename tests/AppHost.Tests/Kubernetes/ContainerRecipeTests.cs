using System.Text.Json;
using System.Text.RegularExpressions;

namespace FineTune.AppHost.Tests.Kubernetes;

/// <summary>
/// The Dockerfile cannot be built here (no Docker engine, no registry), so what can go wrong without building is
/// checked: every project of the app model fits the one parameterised recipe (eng/docker/Service.Dockerfile, with
/// SERVICE = the project's folder, project and assembly name), the recipe and docs/deploy.md give each resource a build
/// line with the image name the publisher writes, the recipe copies only what exists, and each TorchSharp backend has
/// its runtime stage on a base with a libstdc++ new enough.
/// </summary>
public sealed class ContainerRecipeTests : IDisposable
{
    private static readonly string Dockerfile = Path.Combine(Repo.Root, "eng", "docker", "Service.Dockerfile");
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
    public void EveryProjectOfTheAppModelIsBuiltByTheServiceDockerfile()
    {
        var text = File.ReadAllText(Dockerfile);
        var deployDoc = File.ReadAllText(Path.Combine(Repo.Root, "docs", "deploy.md"));
        Assert.Contains("RUN dotnet publish services/${SERVICE}/${SERVICE}.csproj -c Release -r linux-x64", text);
        Assert.Contains("-p:TorchSharpBackend=${TORCHSHARP_BACKEND}", text);
        Assert.Contains("ENV SERVICE_ASSEMBLY=${SERVICE}.dll", text);
        Assert.Contains("ENTRYPOINT [\"/bin/sh\", \"-c\", \"exec dotnet \\\"$SERVICE_ASSEMBLY\\\" \\\"$@\\\"\", \"--\"]", text);
        Assert.Contains("USER $APP_UID", text);

        var projects = ProjectsOfTheAppModel();
        Assert.Equal(["dataset", "export", "inference", "preprocess", "studio", "trainer"], projects.Keys.Order());
        foreach (var (name, csproj) in projects)
        {
            Assert.True(File.Exists(csproj), $"{name}: project {csproj} not found");
            // What SERVICE=<folder> builds and runs: services/<folder>/<folder>.csproj, producing <folder>.dll.
            var service = Path.GetFileNameWithoutExtension(csproj);
            Assert.Equal(Path.GetFullPath(Path.Combine(Repo.Root, "services", service, service + ".csproj")), csproj);
            Assert.DoesNotContain("<AssemblyName>", File.ReadAllText(csproj));
            Assert.Contains($"docker build -f eng/docker/Service.Dockerfile --build-arg SERVICE={service} -t finetune/{name}:latest .", text);
            Assert.Matches(new Regex($@"docker build -f eng/docker/Service\.Dockerfile --build-arg SERVICE={Regex.Escape(service)} .*-t \$REG/{name}:\$TAG"), deployDoc);
        }

        foreach (Match copy in Regex.Matches(text, @"^COPY (?!--from)(?<args>.+)$", RegexOptions.Multiline))
        {
            var sources = copy.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1];
            foreach (var source in sources)
                Assert.True(File.Exists(Path.Combine(Repo.Root, source)) || Directory.Exists(Path.Combine(Repo.Root, source)), $"{Dockerfile}: COPY source '{source}' does not exist");
        }
    }

    [Fact]
    public void EachTorchSharpBackendHasARuntimeStageAndTheCudaBuildIsDocumented()
    {
        var text = File.ReadAllText(Dockerfile);
        // Directory.Build.targets maps TorchSharpBackend to the package; the Dockerfile picks its runtime stage by the same value.
        var targets = File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.targets"));
        var backends = Regex.Matches(targets, @"'\$\(TorchSharpBackend\)' == '(?<b>\w+)'").Select(m => m.Groups["b"].Value).Distinct().ToList();
        Assert.Equal(["cpu", "cuda"], backends);
        Assert.Contains("TorchSharp-cuda-linux", targets);
        Assert.Contains("FROM runtime-${TORCHSHARP_BACKEND}", text);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS runtime-cpu", text); // GLIBCXX_3.4.32
        Assert.Contains("FROM runtime-cpu AS runtime-cuda", text);
        Assert.Matches(new Regex(@"AS runtime-cuda\s+ENV NVIDIA_VISIBLE_DEVICES=all"), text);
        Assert.Contains("TorchSharp-cuda-linux", text);
        Assert.Contains("--build-arg SERVICE=Trainer.Worker --build-arg TORCHSHARP_BACKEND=cuda -t finetune/trainer:latest-cuda", text);
    }

    [Fact]
    public void TheStudioImageGetsTheChartJsItsBuildEmbeds()
    {
        var text = File.ReadAllText(Dockerfile);
        var studio = File.ReadAllText(Path.Combine(Repo.Root, "services", "Studio", "Studio.csproj"));
        var chartJs = Regex.Match(studio, @"<ChartJsPath>\$\(RepoRoot\)(?<path>[^<]+)</ChartJsPath>").Groups["path"].Value;
        Assert.Equal("eng/node/node_modules/chart.js/dist/chart.umd.js", chartJs);
        // The build stage receives the package folder at the path the project reads, from a stage that installs the
        // version eng/node/package.json pins.
        Assert.Contains("COPY --from=web-assets /web/node_modules/chart.js eng/node/node_modules/chart.js", text);
        Assert.Contains("COPY eng/node/package.json /tmp/package.json", text);
        Assert.Contains("dependencies['chart.js']", text);
        // package.json must reach the context; node_modules must not (a host's packages are not the image's).
        var ignored = File.ReadAllLines(Path.Combine(Repo.Root, ".dockerignore")).Select(l => l.Trim()).ToList();
        Assert.DoesNotContain("eng/node", ignored);
        Assert.Contains("eng/node/node_modules", ignored);
    }
}
