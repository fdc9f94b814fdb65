// Our own AppHost engine, following .NET Aspire's conventions: a reference to one endpoint of a resource, whose
// properties render as "{name.bindings.<endpoint>.<property>}" in the manifest and as the allocated values at run time.

namespace FineTune.AppHost.Hosting;

public enum EndpointProperty
{
    Url,
    Host,
    Port,
    TargetPort,
    Scheme,
}

public sealed class EndpointReference(IResource resource, string endpointName)
{
    public IResource Resource { get; } = resource;

    public string EndpointName { get; } = endpointName;

    public EndpointAnnotation Annotation =>
        Resource.Annotations.OfKind<EndpointAnnotation>().FirstOrDefault(e => e.Name == EndpointName)
        ?? throw new InvalidOperationException($"{Resource.Name}: no endpoint named '{EndpointName}'.");

    public IValueProvider Property(EndpointProperty property) => new EndpointPropertyValue(this, property);

    public IValueProvider Url => Property(EndpointProperty.Url);

    private sealed class EndpointPropertyValue(EndpointReference endpoint, EndpointProperty property) : IValueProvider
    {
        public string ValueExpression =>
            $"{{{endpoint.Resource.Name}.bindings.{endpoint.EndpointName}.{ManifestName(property)}}}";

        public string GetValue(RunValues values)
        {
            var allocated = values.Endpoint(endpoint.Resource, endpoint.EndpointName, instance: 0);
            return property switch
            {
                EndpointProperty.Url => allocated.Url,
                EndpointProperty.Host => allocated.Host,
                EndpointProperty.Port => allocated.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                EndpointProperty.TargetPort => allocated.TargetPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                EndpointProperty.Scheme => allocated.Scheme,
                _ => throw new ArgumentOutOfRangeException(nameof(property)),
            };
        }

        private static string ManifestName(EndpointProperty p) => p switch
        {
            EndpointProperty.TargetPort => "targetPort",
            _ => p.ToString().ToLowerInvariant(),
        };
    }
}
