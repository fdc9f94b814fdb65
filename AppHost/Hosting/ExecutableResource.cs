// Our own AppHost engine, following .NET Aspire's conventions. A program started as-is (executable.v0 in the manifest).

namespace FineTune.AppHost.Hosting;

public sealed class ExecutableResource(string name, string command, string workingDirectory) : Resource(name)
{
    public string Command { get; } = command;

    /// <summary>Absolute working directory; the manifest writes it relative to the AppHost directory.</summary>
    public string WorkingDirectory { get; } = workingDirectory;
}
