// Our own AppHost engine: the values that exist only in run mode (allocated ports, resolved parameters, local
// paths). The runner fills this in before it starts anything, so every expression can be evaluated synchronously.

namespace FineTune.AppHost.Hosting;

/// <summary>One endpoint of one instance as the runner allocated it. Port is what clients use; TargetPort is what the process listens on.</summary>
public sealed record AllocatedEndpoint(string Scheme, string Host, int Port, int TargetPort)
{
    public string Url => $"{Scheme}://{Host}:{Port}";
}

public sealed class RunValues
{
    private readonly Dictionary<(IResource, string), List<AllocatedEndpoint>> _endpoints = [];
    private readonly Dictionary<IResource, string> _parameters = [];

    public void SetEndpoints(IResource resource, string endpointName, IEnumerable<AllocatedEndpoint> perInstance) =>
        _endpoints[(resource, endpointName)] = [.. perInstance];

    public IReadOnlyList<AllocatedEndpoint> Endpoints(IResource resource, string endpointName) =>
        _endpoints.TryGetValue((resource, endpointName), out var list)
            ? list
            : throw new InvalidOperationException($"{resource.Name}: endpoint '{endpointName}' has no allocated address (the resource is not running).");

    public bool HasEndpoints(IResource resource, string endpointName) => _endpoints.ContainsKey((resource, endpointName));

    public AllocatedEndpoint Endpoint(IResource resource, string endpointName, int instance) => Endpoints(resource, endpointName)[instance];

    public void SetParameter(IResource parameter, string value) => _parameters[parameter] = value;

    public string Parameter(IResource parameter) =>
        _parameters.TryGetValue(parameter, out var value)
            ? value
            : throw new InvalidOperationException($"Parameter '{parameter.Name}' has no value.");
}
