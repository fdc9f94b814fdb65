// Our own AppHost engine, following .NET Aspire's conventions. How many processes of a project run (WithReplicas). Each replica gets its
// own port and its own service.instance.id; the manifest has no field for it (microsoft/aspire#2629), other publishers do.

namespace FineTune.AppHost.Hosting;

public sealed record ReplicaAnnotation(int Replicas) : IResourceAnnotation;
