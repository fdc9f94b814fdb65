// Our own AppHost engine: what every part of the runner needs to know about this run.

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class RunContext(
    RunValues values,
    OtlpSettings otlp,
    string environmentName,
    string stateDirectory,
    IReadOnlySet<IResource> unavailable)
{
    public RunValues Values { get; } = values;

    public OtlpSettings Otlp { get; set; } = otlp;

    public string EnvironmentName { get; } = environmentName;

    public bool IsDevelopment => string.Equals(EnvironmentName, "Development", StringComparison.OrdinalIgnoreCase);

    public string StateDirectory { get; } = stateDirectory;

    public bool IsUnavailable(IResource resource) => unavailable.Contains(resource);

    /// <summary>The local folder behind a shared volume: &lt;state&gt;/&lt;volume name&gt;, created on first use.</summary>
    public string SharedVolumePath(SharedVolumeResource volume)
    {
        var path = Path.Combine(StateDirectory, volume.Name);
        Directory.CreateDirectory(path);
        return path;
    }
}
