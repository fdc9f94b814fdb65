using System.Reflection;

namespace FineTune.Tests;

/// <summary>Paths the tests need: the repository, the shared reference folder beside it (as in CI), and the node tools.</summary>
public static class Repo
{
    /// <summary>The repository root, as it was when the test project was built.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>../shared beside the clone: seeds, reference tokenizers, schemas. CI has it there too.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>
    /// Trait of the test classes that read ../shared: <c>[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)]</c>. Where
    /// ../shared is absent, ./test.sh runs with <c>--filter Needs!=shared</c> and says which tests it skipped.
    /// </summary>
    public const string NeedsTrait = "Needs";

    public const string SharedTraitValue = "shared";

    /// <summary>eng/node: node-llama-cpp, @huggingface/tokenizers, @huggingface/jinja (installed by eng/prereqs.sh).</summary>
    public static string NodeTools => Path.Combine(Root, "eng", "node");

    /// <summary>llama.cpp's prebuilt libraries (libggml-base, libllama) as node-llama-cpp ships them for linux-x64.</summary>
    public static string LlamaCppLibraries => Path.Combine(NodeTools, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");

    public static string SharedFile(params string[] parts)
    {
        var path = Path.Combine([Shared, .. parts]);
        if (!File.Exists(path) && !Directory.Exists(path))
            throw new FileNotFoundException($"Shared reference material not found at {path}: the tests expect ../shared beside the repository, as in CI.");
        return path;
    }

    private static string FindRoot()
    {
        var fromBuild = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        if (fromBuild is not null && File.Exists(Path.Combine(fromBuild, "FineTune.Aspire.sln")))
            return Path.GetFullPath(fromBuild);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FineTune.Aspire.sln")))
                return dir.FullName;
        throw new InvalidOperationException("Could not find the repository root (FineTune.Aspire.sln) above " + AppContext.BaseDirectory);
    }
}
