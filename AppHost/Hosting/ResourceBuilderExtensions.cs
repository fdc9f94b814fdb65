// Our own AppHost engine, following .NET Aspire's conventions: the fluent With*/WaitFor calls shared by every
// resource kind. Each one only adds an annotation; the runner and the publishers give it meaning.

namespace FineTune.AppHost.Hosting;

public static class ResourceBuilderExtensions
{
    /// <summary>Gives the resource <paramref name="source"/>'s address: ConnectionStrings__&lt;name&gt; and/or services__&lt;name&gt;__&lt;endpoint&gt;__&lt;i&gt;.</summary>
    public static IResourceBuilder<T> WithReference<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> source) where T : IResource
    {
        var resource = source.Resource;
        if (resource is not IResourceWithConnectionString && !resource.Annotations.OfKind<EndpointAnnotation>().Any())
            throw new InvalidOperationException($"{builder.Resource.Name}: cannot reference '{resource.Name}', which has neither a connection string nor an endpoint.");
        return builder.WithAnnotation(new ReferenceAnnotation(resource));
    }

    /// <summary>Starts the resource only once <paramref name="dependency"/> is healthy.</summary>
    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<IResource> dependency) where T : IResource
    {
        if (ReferenceEquals(builder.Resource, dependency.Resource))
            throw new InvalidOperationException($"{builder.Resource.Name}: a resource cannot wait for itself.");
        return builder.WithAnnotation(new WaitAnnotation(dependency.Resource));
    }

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, string value) where T : IResource =>
        builder.WithAnnotation(new EnvironmentAnnotation(name, ReferenceExpression.Literal(value)));

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, ReferenceExpression value) where T : IResource =>
        builder.WithAnnotation(new EnvironmentAnnotation(name, value));

    public static IResourceBuilder<T> WithEnvironment<T>(this IResourceBuilder<T> builder, string name, IResourceBuilder<ParameterResource> parameter) where T : IResource =>
        builder.WithAnnotation(new EnvironmentAnnotation(name, ReferenceExpression.Of(parameter.Resource)));

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params string[] args) where T : IResource =>
        builder.WithAnnotation(new ArgsAnnotation([.. args.Select(ReferenceExpression.Literal)]));

    public static IResourceBuilder<T> WithArgs<T>(this IResourceBuilder<T> builder, params ReferenceExpression[] args) where T : IResource =>
        builder.WithAnnotation(new ArgsAnnotation(args));

    /// <summary>An HTTP endpoint named <paramref name="name"/>. Leave <paramref name="port"/> null for a free port per instance.</summary>
    public static IResourceBuilder<T> WithHttpEndpoint<T>(this IResourceBuilder<T> builder, int? port = null, int? targetPort = null, string name = "http") where T : IResource =>
        builder.WithEndpoint(new EndpointAnnotation(name, "http", targetPort, port, Transport: "http"));

    public static IResourceBuilder<T> WithEndpoint<T>(this IResourceBuilder<T> builder, EndpointAnnotation endpoint) where T : IResource
    {
        if (builder.Resource.Annotations.OfKind<EndpointAnnotation>().Any(e => e.Name == endpoint.Name))
            throw new InvalidOperationException($"{builder.Resource.Name}: endpoint '{endpoint.Name}' is declared twice.");
        return builder.WithAnnotation(endpoint);
    }

    /// <summary>Marks every HTTP endpoint as reachable from outside the application (manifest "external": true).</summary>
    public static IResourceBuilder<T> WithExternalHttpEndpoints<T>(this IResourceBuilder<T> builder) where T : IResource
    {
        var annotations = builder.Resource.Annotations;
        for (var i = 0; i < annotations.Count; i++)
            if (annotations[i] is EndpointAnnotation { Scheme: "http" or "https" } e)
                annotations[i] = e with { IsExternal = true };
        return builder;
    }

    public static EndpointReference GetEndpoint<T>(this IResourceBuilder<T> builder, string name) where T : IResource =>
        new(builder.Resource, name);

    /// <summary>Runs <paramref name="replicas"/> processes, each with its own port and service.instance.id.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicas(this IResourceBuilder<ProjectResource> builder, int replicas)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        if (builder.Resource.Annotations.OfKind<EndpointAnnotation>().Any(e => e.Port is not null))
            throw new InvalidOperationException($"{builder.Resource.Name}: replicas need free ports; remove the fixed port.");
        return builder.WithAnnotation(new ReplicaAnnotation(replicas));
    }

    /// <summary>A named container volume mounted at <paramref name="target"/>.</summary>
    public static IResourceBuilder<T> WithVolume<T>(this IResourceBuilder<T> builder, string name, string target, bool readOnly = false) where T : ContainerResource =>
        builder.WithAnnotation(new VolumeAnnotation(name, target, readOnly));

    /// <summary>Mounts the shared volume and tells the resource where it is through <paramref name="environmentVariable"/>.</summary>
    public static IResourceBuilder<T> WithSharedVolume<T>(this IResourceBuilder<T> builder, IResourceBuilder<SharedVolumeResource> volume,
        string environmentVariable = SharedVolumeExtensions.DataRootVariable) where T : IResource =>
        builder.WithAnnotation(new SharedVolumeAnnotation(volume.Resource, environmentVariable));

    /// <summary>Replaces how the runner decides the resource is healthy.</summary>
    public static IResourceBuilder<T> WithHealthProbe<T>(this IResourceBuilder<T> builder, IHealthProbe probe) where T : IResource
    {
        builder.Resource.Annotations.RemoveAll(a => a is HealthProbeAnnotation);
        return builder.WithAnnotation(new HealthProbeAnnotation(probe));
    }
}
