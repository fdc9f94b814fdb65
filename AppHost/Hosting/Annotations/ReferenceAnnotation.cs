// Our own AppHost engine, following .NET Aspire's conventions. The resource is given Source's address (WithReference): its connection
// string as ConnectionStrings__<name> when it has one, and services__<name>__<endpoint>__<i> for each HTTP endpoint.

namespace FineTune.AppHost.Hosting;

public sealed record ReferenceAnnotation(IResource Source) : IResourceAnnotation;
