using FineTune.AppHost.Hosting;
using FineTune.AppHost.Hosting.Runner;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FineTune.AppHost.Tests;

public sealed class DashboardWiringTests
{
    /// <summary>Records when the runner started it and what the resources looked like then.</summary>
    private sealed class RecordingDashboard : IDashboard
    {
        public IReadOnlyList<ResourceSnapshot>? SeenAtStart { get; private set; }

        public bool Disposed { get; private set; }

        public Task<DashboardEndpoints> StartAsync(IResourceStateSource resources, CancellationToken cancellationToken)
        {
            SeenAtStart = resources.GetResources();
            return Task.FromResult(new DashboardEndpoints("http://localhost:18888/login?t=abc", "http://localhost:4317", "http://localhost:4318", "secret-key"));
        }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task RegisteredDashboardStartsFirstAndServicesExportToIt()
    {
        var dashboard = new RecordingDashboard();
        await using (var model = new TestAppModel())
        {
            model.Builder.Services.AddSingleton<IDashboard>(dashboard);
            model.Builder.AddProject("echo", TestAppModel.EchoProject);

            await model.App.StartAsync();

            Assert.NotNull(dashboard.SeenAtStart);
            Assert.All(dashboard.SeenAtStart!.SelectMany(r => r.Instances), i => Assert.Null(i.ProcessId));
            var env = (await TestAppModel.EchoAsync(model.Resource("echo").Instances.Single().Endpoint!)).Environment;
            Assert.Equal("http://localhost:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            Assert.Equal("grpc", env["OTEL_EXPORTER_OTLP_PROTOCOL"]);
            Assert.Equal("x-otlp-api-key=secret-key", env["OTEL_EXPORTER_OTLP_HEADERS"]);
        }
        Assert.True(dashboard.Disposed);
    }

    [Theory]
    [InlineData(null, null, "http://localhost:18889", "grpc")]
    [InlineData("http://localhost:19001", null, "http://localhost:19001", "grpc")]
    [InlineData(null, "http://localhost:19002", "http://localhost:19002", "http/protobuf")]
    [InlineData("http://localhost:19001", "http://localhost:19002", "http://localhost:19001", "grpc")]
    public void OtlpEndpointFollowsAspireConfigurationOrder(string? grpc, string? http, string endpoint, string protocol)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = grpc,
            ["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = http,
        }).Build();

        var settings = OtlpSettings.FromConfiguration(configuration);

        Assert.Equal(endpoint, settings.Endpoint);
        Assert.Equal(protocol, settings.Protocol);
        Assert.Null(settings.ApiKey);
    }
}
