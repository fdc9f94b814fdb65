using System.Xml.Linq;

namespace FineTune.AppHost.Tests;

/// <summary>
/// The one-way project graph of docs/architecture.md: reads every product .csproj's ProjectReferences and package
/// references, and fails on an arrow that must never exist (a library into a service, TorchSharp into the front door or
/// the export, Redis outside Messaging).
/// </summary>
public sealed class ProjectGraphTests
{
    private static readonly string[] Services = ["AppHost", "Cli", "Dataset.Api", "Preprocess.Worker", "Trainer.Worker", "Export.Worker", "Inference.Api", "Studio"];
    private static readonly string[] Bottom = ["FineTune.Formats", "FineTune.Contracts", "FineTune.Data"];

    private static readonly Lazy<Dictionary<string, Project>> Graph = new(Load);

    private sealed record Project(string Name, IReadOnlyList<string> References, IReadOnlyList<string> Packages, bool UsesTorchSharp);

    [Fact]
    public void NoLibraryReferencesAServiceOrTheAppHost()
    {
        foreach (var library in Graph.Value.Values.Where(p => !Services.Contains(p.Name) && p.Name != "ServiceDefaults"))
            Assert.True(!library.References.Intersect(Services).Any(), $"{library.Name} references a service: {string.Join(", ", library.References)}");
    }

    [Fact]
    public void TheBottomLibrariesReferenceNoOtherProject()
    {
        foreach (var name in Bottom)
            Assert.True(Graph.Value[name].References.Count == 0, $"{name} references {string.Join(", ", Graph.Value[name].References)}");
    }

    [Theory]
    [InlineData("FineTune.Models.Core", "FineTune.Models")]
    [InlineData("FineTune.Models.Core", "FineTune.Training")]
    [InlineData("FineTune.Models", "FineTune.Training")]
    [InlineData("FineTune.Export", "FineTune.Models")]
    [InlineData("FineTune.Export", "FineTune.Training")]
    [InlineData("FineTune.Contracts", "FineTune.Models")]
    public void ForbiddenArrowIsAbsentEvenTransitively(string from, string to) =>
        Assert.DoesNotContain(to, Closure(from));

    [Theory]
    [InlineData("Dataset.Api")]
    [InlineData("Export.Worker")]
    [InlineData("FineTune.Models.Core")]
    [InlineData("FineTune.Contracts")]
    [InlineData("FineTune.Export")]
    public void ProjectCarriesNoTorchSharp(string name)
    {
        var carriers = Closure(name).Append(name).Where(p => Graph.Value[p].UsesTorchSharp).ToList();
        Assert.True(carriers.Count == 0, $"{name} gets TorchSharp through {string.Join(", ", carriers)}");
    }

    [Fact]
    public void OnlyMessagingAndServiceDefaultsUseRedisAmongTheLibraries()
    {
        var users = Graph.Value.Values
            .Where(p => !Services.Contains(p.Name) && p.Packages.Any(k => k.Contains("StackExchange.Redis", StringComparison.Ordinal)))
            .Select(p => p.Name).Order().ToList();
        Assert.Equal(["FineTune.Messaging", "ServiceDefaults"], users);
    }

    /// <summary>Suites that drive a flow across several services, named for the flow (docs/architecture.md, "Tests").</summary>
    private static readonly string[] FlowSuites = ["Jobs", "MainJob", "AspireDashboard"];

    /// <summary>Test projects with TorchSharp although the project they test has none, and why.</summary>
    private static readonly Dictionary<string, string> TorchSharpInTests = new(StringComparer.Ordinal)
    {
        ["FineTune.Export"] = "the trainer's merge (AdapterMerger) and the product's tiny models prepare what the export converts",
        ["Export.Worker"] = "the trainer's merge (AdapterMerger) and the product's tiny models prepare what the worker converts",
        ["Studio"] = "a real Inference.Api (which generates with TorchSharp) answers the studio's chat",
    };

    [Fact]
    public void EveryTestProjectIsNamedForTheProjectItTestsAndHasTorchSharpOnlyWhereThatProjectHas()
    {
        var tests = Directory.GetFiles(Path.Combine(Repo.Root, "tests"), "*.Tests.csproj", SearchOption.AllDirectories).Select(Read).ToList();
        Assert.NotEmpty(tests);
        foreach (var test in tests)
        {
            var subject = test.Name[..^".Tests".Length];
            if (FlowSuites.Contains(subject)) continue;
            Assert.True(Graph.Value.ContainsKey(subject), $"tests/{test.Name} is named for no project of ours ({subject})");
            Assert.True(test.References.Contains(subject), $"tests/{test.Name} does not reference {subject}: {string.Join(", ", test.References)}");
            var subjectHasTorch = Closure(subject).Append(subject).Any(p => Graph.Value[p].UsesTorchSharp);
            var carriers = test.References.SelectMany(r => Closure(r).Append(r)).Distinct().Where(p => Graph.Value[p].UsesTorchSharp).ToList();
            Assert.True(subjectHasTorch || carriers.Count == 0 || TorchSharpInTests.ContainsKey(subject),
                $"tests/{test.Name} gets TorchSharp through {string.Join(", ", carriers)}, which {subject} does without");
        }
    }

    private static IEnumerable<string> Closure(string name)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>(Graph.Value[name].References);
        while (stack.TryPop(out var next))
            if (seen.Add(next))
                foreach (var reference in Graph.Value[next].References) stack.Push(reference);
        return seen;
    }

    private static Dictionary<string, Project> Load()
    {
        var root = Repo.Root;
        var files = Directory.GetFiles(Path.Combine(root, "services"), "*.csproj", SearchOption.AllDirectories)
            .Append(Path.Combine(root, "AppHost", "AppHost.csproj"))
            .Append(Path.Combine(root, "ServiceDefaults", "ServiceDefaults.csproj"))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        return files.Select(Read).ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    private static Project Read(string path)
    {
        var xml = XDocument.Load(path);
        var references = xml.Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(((string)e.Attribute("Include")!).Replace('\\', '/'))).ToList();
        var packages = xml.Descendants("PackageReference").Select(e => (string?)e.Attribute("Include") ?? "").ToList();
        var torch = xml.Descendants("UsesTorchSharp").Any(e => e.Value.Trim() == "true");
        return new Project(Path.GetFileNameWithoutExtension(path), references, packages, torch);
    }
}
