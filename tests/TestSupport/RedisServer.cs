using System.Diagnostics;
using System.Net.Sockets;

namespace FineTune.Tests;

/// <summary>
/// A real redis-server on a free loopback port with its own data directory (AOF on) and a password.
/// Start it with <see cref="StartAsync"/>; dispose kills it and removes the directory. Use as an xunit fixture
/// (IClassFixture&lt;RedisServer&gt;) or per test. <see cref="RestartAsync"/> stops and starts it on the same port and data.
/// </summary>
public sealed class RedisServer : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _dir = new("ft-redis");
    private Process? _process;

    public int Port { get; } = FreePort.Next();
    public string Password { get; } = Guid.NewGuid().ToString("N");

    /// <summary>StackExchange.Redis connection string, as the AppHost injects it (ConnectionStrings__redis).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},password={Password}";

    public Task InitializeAsync() => StartAsync();

    public async Task StartAsync()
    {
        var psi = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--requirepass", Password,
                     "--dir", _dir.Path, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes" })
            psi.ArgumentList.Add(arg);
        try
        {
            _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("redis-server is not on PATH: run eng/prereqs.sh (apt-get install redis-server).", ex);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAcceptingAsync();
    }

    /// <summary>SHUTDOWN-free hard stop (SIGKILL), then start again on the same port and data directory.</summary>
    public async Task RestartAsync()
    {
        Kill();
        await StartAsync();
    }

    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
        _process?.Dispose();
        _process = null;
    }

    private async Task WaitUntilAcceptingAsync()
    {
        // Poll the port: connection refused until redis-server has bound it.
        await Eventually.UntilAsync(async () =>
        {
            if (_process is { HasExited: true })
                throw new RedisExitedException($"redis-server exited with code {_process.ExitCode} before accepting connections");
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            return true;
        }, TimeSpan.FromSeconds(10), $"redis-server accepting connections on port {Port}", TimeSpan.FromMilliseconds(25));
    }

    /// <summary>The server died while starting (not a transient error: the poll stops).</summary>
    private sealed class RedisExitedException(string message) : Exception(message);

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Kill();
        _dir.Dispose();
    }
}
