// Our own AppHost engine, following .NET Aspire's conventions. A named container volume (WithDataVolume): manifest "volumes" entry.
// In run mode a container gets a docker volume of that name; a local-process fallback uses a folder under .ft/ instead.

namespace FineTune.AppHost.Hosting;

public sealed record VolumeAnnotation(string Name, string Target, bool ReadOnly = false) : IResourceAnnotation;
