// Our own AppHost engine, following .NET Aspire's conventions. One environment variable given to a resource (WithEnvironment).

namespace FineTune.AppHost.Hosting;

public sealed record EnvironmentAnnotation(string Name, ReferenceExpression Value) : IResourceAnnotation;
