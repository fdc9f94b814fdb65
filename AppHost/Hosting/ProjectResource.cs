// Our own AppHost engine, following .NET Aspire's conventions. A .NET project: the runner builds it once and starts one
// "dotnet <TargetPath>" per replica; the manifest writes it as project.v0 with its path relative to the manifest.

namespace FineTune.AppHost.Hosting;

public sealed class ProjectResource(string name, string projectPath) : Resource(name)
{
    /// <summary>Absolute path of the .csproj.</summary>
    public string ProjectPath { get; } = projectPath;

    public int Replicas => Annotations.Last<ReplicaAnnotation>()?.Replicas ?? 1;
}
