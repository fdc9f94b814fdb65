using System.Net;
using FineTune.AppHost.Dashboard;
using FineTune.AppHost.Hosting;

namespace FineTune.Dashboard.Tests;

/// <summary>An embedded dashboard on free ports for one test, with an HttpClient that can log in with the browser token.</summary>
public sealed class DashboardHost : IAsyncDisposable
{
    private DashboardHost(EmbeddedDashboard dashboard, DashboardEndpoints endpoints, TestResourceSource resources)
    {
        Dashboard = dashboard;
        Endpoints = endpoints;
        Resources = resources;
    }

    public EmbeddedDashboard Dashboard { get; }
    public DashboardEndpoints Endpoints { get; }
    public TestResourceSource Resources { get; }
    public Uri UiUrl => Dashboard.UiUrl!;

    public static async Task<DashboardHost> StartAsync(TestResourceSource? resources = null, Action<DashboardOptions>? configure = null)
    {
        var options = new DashboardOptions { UiPort = 0, OtlpGrpcPort = 0, OtlpHttpPort = 0 };
        configure?.Invoke(options);
        var dashboard = new EmbeddedDashboard(options);
        resources ??= TestResourceSource.Healthy(DateTimeOffset.UtcNow.AddMinutes(-3));
        var endpoints = await dashboard.StartAsync(resources, CancellationToken.None);
        return new DashboardHost(dashboard, endpoints, resources);
    }

    /// <summary>A client with its own cookie jar; logged in through /login?t= unless <paramref name="login"/> is false.</summary>
    public async Task<HttpClient> ClientAsync(bool login = true)
    {
        var client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false }) { BaseAddress = UiUrl };
        if (login)
        {
            var response = await client.GetAsync($"/login?t={Dashboard.Options.BrowserToken}");
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        }
        return client;
    }

    public ValueTask DisposeAsync() => Dashboard.DisposeAsync();
}
