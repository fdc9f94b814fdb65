// Our own AppHost engine, following .NET Aspire's conventions. A resource others reach through a connection string
// (ConnectionStrings__<name>), which is also the manifest's "connectionString" field.

namespace FineTune.AppHost.Hosting;

public interface IResourceWithConnectionString : IResource
{
    ReferenceExpression ConnectionStringExpression { get; }
}

/// <summary>"{name.connectionString}" in the manifest; the evaluated connection string at run time.</summary>
public sealed class ConnectionStringReference(IResourceWithConnectionString resource) : IValueProvider
{
    public string ValueExpression => $"{{{resource.Name}.connectionString}}";

    public string GetValue(RunValues values) => resource.ConnectionStringExpression.GetValue(values);
}
