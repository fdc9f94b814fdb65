// Our own AppHost engine, following Aspire.Hosting.Redis's conventions: a Redis server with a generated password,
// one "tcp" endpoint (target port 6379) and the connection string "{host}:{port},password={password}".

namespace FineTune.AppHost.Hosting;

public sealed class RedisResource(string name, ParameterResource password)
    : ContainerResource(name, RedisDefaults.Image, RedisDefaults.Tag), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public ParameterResource Password { get; } = password;

    /// <summary>Append-only file on (WithPersistence): every write is logged and replayed after a restart.</summary>
    public bool AppendOnly { get; set; }

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={Password}");
}

public static class RedisDefaults
{
    public const string Image = "docker.io/library/redis";
    public const string Tag = "8.6";
    public const int Port = 6379;
    public const string DataTarget = "/data";
}
