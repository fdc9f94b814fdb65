// Our own AppHost engine, following .NET Aspire's conventions: a publisher turns the app model into deployment
// artifacts. Publishers are keyed services; "--publisher <key> --output-path <path>" picks one. The manifest publisher
// is registered by the builder; others (e.g. "kubernetes") register themselves with AddPublisher.

using FineTune.AppHost.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace FineTune.AppHost.Publishing;

public interface IDistributedApplicationPublisher
{
    /// <param name="outputPath">Absolute: a file or a folder, as the publisher defines.</param>
    Task PublishAsync(DistributedApplicationModel model, string outputPath, CancellationToken cancellationToken);
}

public static class PublisherRegistration
{
    public static IDistributedApplicationBuilder AddPublisher<TPublisher>(this IDistributedApplicationBuilder builder, string name)
        where TPublisher : class, IDistributedApplicationPublisher
    {
        builder.Services.AddKeyedSingleton<IDistributedApplicationPublisher, TPublisher>(name);
        return builder;
    }
}
