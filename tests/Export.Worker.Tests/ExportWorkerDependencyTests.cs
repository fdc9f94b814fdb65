using System.Text.Json.Nodes;

namespace Export.Worker.Tests;

/// <summary>
/// Export.Worker ships without TorchSharp (issue 16: the export converts the trainer's merged folder and needs no tensors).
/// Its deps.json, which the build writes afresh every time, must name no TorchSharp package and no libtorch asset; this
/// test project builds Export.Worker (a project reference), so the file is the one that goes with these tests.
/// </summary>
public sealed class ExportWorkerDependencyTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static string DepsJson => Path.Combine(Repo.Root, "services", "Export.Worker", "bin", Configuration, "net10.0", "Export.Worker.deps.json");

    [Fact]
    public void TheExportWorkersDependenciesHoldNoTorchSharpAndNoLibtorch()
    {
        Assert.True(File.Exists(DepsJson), $"{DepsJson} is missing: build services/Export.Worker in {Configuration}");
        var deps = JsonNode.Parse(File.ReadAllText(DepsJson))!;
        var libraries = deps["libraries"]!.AsObject().Select(l => l.Key).ToList();
        Assert.Contains(libraries, l => l.StartsWith("FineTune.Export/", StringComparison.Ordinal));      // the file is the worker's
        Assert.DoesNotContain(libraries, l => l.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || l.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));
        var assets = deps["targets"]!.AsObject().SelectMany(t => t.Value!.AsObject())
            .SelectMany(library => library.Value!.AsObject().Where(section => section.Value is JsonObject).SelectMany(section => section.Value!.AsObject().Select(a => a.Key)))
            .ToList();
        Assert.Contains(assets, a => a.EndsWith("FineTune.Export.dll", StringComparison.Ordinal));
        Assert.DoesNotContain(assets, a => a.Contains("libtorch", StringComparison.OrdinalIgnoreCase) || a.Contains("TorchSharp", StringComparison.OrdinalIgnoreCase));
    }
}
