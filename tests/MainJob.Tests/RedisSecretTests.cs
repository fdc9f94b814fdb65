using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using TempDirectory = FineTune.Tests.TempDirectory;

namespace MainJob.Tests;

/// <summary>
/// Without a container runtime Redis runs as a local redis-server: its generated password must reach Redis and the
/// services' connection strings (through a config file only its owner reads), and nothing a user sees (the dashboard's
/// view of the resource's arguments, the console logs the AppHost keeps, the AppHost's own output).
/// </summary>
public sealed class RedisSecretTests
{
    private static readonly TimeSpan Startup = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task TheRedisPasswordStaysOffRedissArgumentsAndEveryConsoleLog()
    {
        using var state = new TempDirectory("ft-secret");
        await using var apphost = await RealAppHost.StartAsync(state.Path, Startup, "--no-demo");
        await apphost.WaitForFrontDoorAsync(Startup);   // healthy: it reached Redis with the password
        var model = apphost.App.Services.GetRequiredService<DistributedApplicationModel>();
        var redis = model.Resources.OfType<ExecutableResource>().Single(r => r.Name == "redis");
        var connection = await ((IResourceWithConnectionString)redis).GetConnectionStringAsync();
        var password = connection!.Split(',').Single(p => p.StartsWith("password=", StringComparison.Ordinal))["password=".Length..];
        Assert.True(password.Length >= 16, $"a generated password, not '{password}'");
        var endpoint = connection.Split(',')[0];
        Assert.StartsWith("-NOAUTH", await RedisReplyAsync(endpoint, "PING"), StringComparison.Ordinal);   // the file's requirepass holds
        Assert.Equal("+OK", await RedisReplyAsync(endpoint, $"AUTH {password}"));
#pragma warning disable CS0618 // the replacement (ExecutionConfigurationBuilder) needs DCP-side context a test does not have
        var args = await redis.GetArgumentValuesAsync(DistributedApplicationOperation.Run);
#pragma warning restore CS0618
        Assert.DoesNotContain(args, a => a.Contains(password, StringComparison.Ordinal));

        var config = Directory.GetFiles(state.Path, "redis.conf", SearchOption.AllDirectories).Single();
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Contains($"requirepass \"{password}\"", File.ReadAllText(config), StringComparison.Ordinal);

        var logs = Path.Combine(state.Path, "logs", "latest");
        Assert.NotEmpty(Directory.GetFiles(logs, "*.log"));
        foreach (var file in Directory.GetFiles(logs, "*.log"))
            Assert.False(GrowingFile.ReadAll(file).Contains(password, StringComparison.Ordinal), $"{file} holds the Redis password");
        Assert.DoesNotContain(password, apphost.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The first reply line of Redis at <paramref name="endpoint"/> (host:port) to one inline command on a new connection.</summary>
    private static async Task<string> RedisReplyAsync(string endpoint, string command)
    {
        var (host, port) = (endpoint[..endpoint.LastIndexOf(':')], int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(host, port);
        await using var stream = client.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"));
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII);
        return await reader.ReadLineAsync() ?? "";
    }
}
