// Our own AppHost engine, following .NET Aspire's conventions. The resource starts only after Dependency reports healthy (WaitFor).

namespace FineTune.AppHost.Hosting;

public sealed record WaitAnnotation(IResource Dependency) : IResourceAnnotation;
