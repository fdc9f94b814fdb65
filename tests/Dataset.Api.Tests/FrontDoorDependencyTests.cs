using System.Text.Json;

namespace Dataset.Api.Tests;

/// <summary>
/// The front door (Dataset.Api) validates jobs with FineTune.Contracts and leaves writing models to the preprocess worker, so it
/// ships without TorchSharp and libtorch (~1 GB). This fails when a reference brings them back.
/// </summary>
public sealed class FrontDoorDependencyTests
{
    [Fact]
    public void DatasetApiDependsOnNoTorchSharpOrLibTorch()
    {
        // Built with this test project (a project reference), in the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var deps = Path.Combine(Repo.Root, "services", "Dataset.Api", "bin", configuration, "net10.0", "Dataset.Api.deps.json");
        Assert.True(File.Exists(deps), $"{deps} is missing: build services/Dataset.Api ({configuration}) first");
        using var json = JsonDocument.Parse(File.ReadAllText(deps));

        var libraries = json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains(libraries, l => l.StartsWith("FineTune.Contracts/", StringComparison.Ordinal));
        Assert.DoesNotContain(libraries, l => l.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || l.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));

        var assets = json.RootElement.GetProperty("targets").EnumerateObject()
            .SelectMany(target => target.Value.EnumerateObject())
            .SelectMany(library => library.Value.EnumerateObject()
                .Where(section => section.Name is "runtime" or "native" or "runtimeTargets")
                .SelectMany(section => section.Value.EnumerateObject().Select(asset => asset.Name)))
            .ToList();
        Assert.Contains(assets, a => a == "Dataset.Api.dll");
        Assert.DoesNotContain(assets, a => a.Contains("torch", StringComparison.OrdinalIgnoreCase));
    }
}
