using FineTune.AppHost.Publishing.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FineTune.AppHost.Tests.Kubernetes;

public sealed class GracefulShutdownTests
{
    [Fact]
    public void TheShutdownTimeoutVariableThePublisherWritesIsTheOneTheDotnetHostReads()
    {
        // The publisher gives trainers env shutdownTimeoutSeconds (in their ConfigMap) so the host waits for a
        // checkpoint after SIGTERM instead of its 30 s default. Environment variables and command-line switches land
        // in the same configuration; a switch keeps this test free of process-wide state.
        var builder = WebApplication.CreateBuilder([$"--{AppModelToDeployment.ShutdownTimeoutVariable}=285"]);
        using var app = builder.Build();
        Assert.Equal(TimeSpan.FromSeconds(285), app.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }
}
