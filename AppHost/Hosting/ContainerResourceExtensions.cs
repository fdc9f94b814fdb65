// Our own AppHost engine, following .NET Aspire's conventions: AddContainer(name, image, tag).

namespace FineTune.AppHost.Hosting;

public static class ContainerResourceExtensions
{
    public static IResourceBuilder<ContainerResource> AddContainer(this IDistributedApplicationBuilder builder, string name, string image, string tag = "latest") =>
        builder.AddResource(new ContainerResource(name, image, tag));

    public static IResourceBuilder<T> WithEntrypoint<T>(this IResourceBuilder<T> builder, string entrypoint) where T : ContainerResource
    {
        builder.Resource.Entrypoint = entrypoint;
        return builder;
    }
}
