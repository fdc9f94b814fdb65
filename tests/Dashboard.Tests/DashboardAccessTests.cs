using System.Net;
using System.Net.Sockets;
using FineTune.AppHost.Dashboard;
using FineTune.AppHost.Hosting;

namespace FineTune.Dashboard.Tests;

public sealed class DashboardAccessTests
{
    [Fact]
    public async Task EverythingButLoginNeedsTheBrowserTokenCookie()
    {
        await using var host = await DashboardHost.StartAsync();
        using var anonymous = await host.ClientAsync(login: false);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/resources")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/resources/trainer/commands/stop", null)).StatusCode);
        var page = await anonymous.GetAsync("/traces");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        Assert.StartsWith("/login", page.Headers.Location!.PathAndQuery);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/login?t=wrong")).StatusCode);
        Assert.Empty(host.Resources.Commands);

        using var client = await host.ClientAsync();
        var resources = await client.GetStringAsync("/api/resources");
        Assert.Contains("\"trainer\"", resources);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/traces")).StatusCode);
    }

    [Fact]
    public async Task BrowserUrlCarriesTheGeneratedTokenAndEachStartGetsANewOne()
    {
        await using var first = await DashboardHost.StartAsync();
        await using var second = await DashboardHost.StartAsync();
        var token = first.Dashboard.Options.BrowserToken!;
        Assert.Equal(32, token.Length);
        Assert.EndsWith($"/login?t={token}", first.Endpoints.BrowserUrl);
        Assert.NotEqual(token, second.Dashboard.Options.BrowserToken);
        Assert.NotEqual(first.Endpoints.OtlpApiKey, second.Endpoints.OtlpApiKey);
    }

    [Fact]
    public async Task ListensOnLoopbackOnlyByDefault()
    {
        await using var host = await DashboardHost.StartAsync();
        var port = host.UiUrl.Port;
        var external = Dns.GetHostAddresses(Dns.GetHostName()).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        using (var loopback = new TcpClient())
            await loopback.ConnectAsync(IPAddress.Loopback, port);
        if (external is null) return; // no non-loopback interface on this machine: nothing else to try
        using var other = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => other.ConnectAsync(external, port));
    }

    [Fact]
    public async Task CommandsReachTheRunnerAndUnknownOnesAreRefused()
    {
        await using var host = await DashboardHost.StartAsync();
        using var client = await host.ClientAsync();
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsync("/api/resources/export/commands/stop", null)).StatusCode);
        Assert.Equal(("export", "stop"), Assert.Single(host.Resources.Commands));
        var unknown = await client.PostAsync("/api/resources/export/commands/explode", null);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("start, stop or restart", await unknown.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/api/resources/nope/commands/start", null)).StatusCode);
        Assert.Single(host.Resources.Commands);
    }

    [Fact]
    public async Task PortInUseGivesOneClearError()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var port = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var dashboard = new EmbeddedDashboard(new DashboardOptions { UiPort = port, OtlpGrpcPort = 0, OtlpHttpPort = 0 });
        var ex = await Assert.ThrowsAsync<AppHostException>(() => dashboard.StartAsync(new TestResourceSource(), CancellationToken.None));
        Assert.Contains($"{port}", ex.Message);
        Assert.Contains("Dashboard:UiPort", ex.Message);
        await dashboard.DisposeAsync();
    }

    [Fact]
    public async Task JobsApiSaysWhyWithoutRedis()
    {
        await using var host = await DashboardHost.StartAsync();
        using var client = await host.ClientAsync();
        var response = await client.GetAsync("/api/jobs");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("redis", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
