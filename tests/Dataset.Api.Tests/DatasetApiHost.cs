using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;

namespace Dataset.Api.Tests;

/// <summary>
/// The dataset service's test bed: a real redis-server (flushed per test class instance), a real data folder, and the
/// service on a real Kestrel listener (loopback, free port) so uploads go over TCP as they do in production.
/// </summary>
public sealed class DatasetApiHost(RedisServer redis, string name) : IAsyncDisposable
{
    private ConnectionMultiplexer _mux = null!;

    public TempDirectory Root { get; } = new(name);
    public IDatabase Db => _mux.GetDatabase();
    public IConnectionMultiplexer Multiplexer => _mux;

    public async Task InitializeAsync()
    {
        _mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        await _mux.GetServers()[0].FlushAllDatabasesAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _mux.DisposeAsync();
        Root.Dispose();
    }

    /// <summary>The service, started; <paramref name="settings"/> are extra configuration (key, value).</summary>
    public WebApplicationFactory<Program> Start(string environment = "Development", params (string Key, string Value)[] settings)
    {
        var port = FreePort.Next();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment(environment);
            b.UseSetting("urls", $"http://127.0.0.1:{port}");   // else the default :5000 collides with other test projects
            b.UseSetting("ConnectionStrings:redis", redis.ConnectionString);
            b.UseSetting("FineTune:DataRoot", Root.Path);
            foreach (var (key, value) in settings) b.UseSetting(key, value);
        });
        factory.UseKestrel(port);
        factory.StartServer();
        return factory;
    }

    /// <summary>A plain HttpClient to the Kestrel listener: the testing client's RedirectHandler buffers request bodies (to resend them).</summary>
    public static HttpClient RawClient(WebApplicationFactory<Program> factory)
    {
        using var probe = factory.CreateClient();
        return new HttpClient { BaseAddress = probe.BaseAddress };
    }
}
