// Our own AppHost engine: free loopback ports for every endpoint of every instance, chosen before anything starts,
// and a check that a fixed port is really free (else one clear line naming the resource and the port).

using System.Net;
using System.Net.Sockets;

namespace FineTune.AppHost.Hosting.Runner;

internal sealed class PortAllocator
{
    private readonly HashSet<int> _given = [];

    public int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (_given.Add(port))
                return port;
        }
    }

    public int Fixed(IResource resource, string endpointName, int port)
    {
        if (!_given.Add(port) || !IsFree(port))
            throw new AppHostException($"{resource.Name}: port {port} (endpoint '{endpointName}') is already in use.");
        return port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
