namespace FineTune.AppHost.Tests;

/// <summary>The AppHost as a real process: a signal must stop every process it started, grandchildren included.</summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(ProcessTree.SIGTERM, "SIGTERM")]
    [InlineData(ProcessTree.SIGINT, "SIGINT (Ctrl+C)")]
    public async Task SignalStopsEveryChildAndLeavesNoOrphan(int signal, string name)
    {
        using var state = new TempDirectory("ft-apphost");
        using var apphost = new AppHostProcess("replicas", state.Path);
        await apphost.WaitForReadyAsync(TimeSpan.FromSeconds(120));

        var descendants = ProcessTree.Descendants(apphost.Process.Id);
        // redis-server, two echo replicas, and each replica's own child process
        Assert.Contains(descendants, p => p.Command.StartsWith("redis-server", StringComparison.Ordinal));
        Assert.Equal(2, descendants.Count(p => p.Command == "sleep"));
        Assert.True(descendants.Count(p => p.Command == "dotnet") >= 2, $"{name}: expected 2 echo replicas among {string.Join(", ", descendants.Select(d => d.Command))}");

        ProcessTree.Signal(apphost.Process.Id, signal);
        var exitCode = await apphost.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, exitCode);
        var survivors = descendants.Where(ProcessTree.IsAlive).ToList();
        Assert.True(survivors.Count == 0, $"{name} left orphans: {string.Join(", ", survivors.Select(s => $"{s.Pid} {s.Command}"))}");
        Assert.Contains("apphost: stopped", apphost.Stdout);
    }
}
