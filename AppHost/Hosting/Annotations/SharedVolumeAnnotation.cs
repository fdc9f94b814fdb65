// Our own AppHost engine, following .NET Aspire's conventions. The resource mounts a shared volume (WithSharedVolume) and learns its
// path from EnvironmentVariable: locally a folder under .ft/, in Kubernetes a ReadWriteMany claim at Volume.MountPath.

namespace FineTune.AppHost.Hosting;

public sealed record SharedVolumeAnnotation(SharedVolumeResource Volume, string EnvironmentVariable) : IResourceAnnotation;
