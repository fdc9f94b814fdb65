namespace FineTune.AppHost.Infrastructure;

/// <summary>
/// Redis as a local <c>redis-server</c> process, for machines without a container runtime: the same name, the same
/// connection string shape as Aspire's RedisResource (<c>host:port,password=…</c>) and the same persistence (append-only
/// file), its files under the AppHost's state folder. <see cref="RedisHosting"/> chooses it only in run mode.
/// </summary>
public sealed class LocalRedisResource(string name, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, "redis-server", dataDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public ParameterResource PasswordParameter { get; } = password;

    public string DataDirectory { get; } = dataDirectory;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={PasswordParameter}");
}
