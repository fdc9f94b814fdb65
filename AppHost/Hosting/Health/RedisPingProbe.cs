// Our own AppHost engine: Redis is healthy when AUTH <password> then PING answer +OK and +PONG over RESP.
// Written by hand (a few bytes of the RESP protocol) so the AppHost needs no Redis client library.

using System.Net.Sockets;
using System.Text;

namespace FineTune.AppHost.Hosting;

public sealed class RedisPingProbe(string endpointName, ParameterResource password) : IHealthProbe
{
    public string Description => "AUTH + PING";

    public async Task<HealthProbeResult> ProbeAsync(HealthProbeContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.Endpoint(endpointName);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(endpoint.Host, endpoint.Port, timeout.Token);
            var stream = client.GetStream();
            var secret = context.Values.Parameter(password);
            var request = $"*2\r\n$4\r\nAUTH\r\n${Encoding.UTF8.GetByteCount(secret)}\r\n{secret}\r\n*1\r\n$4\r\nPING\r\n";
            await stream.WriteAsync(Encoding.UTF8.GetBytes(request), timeout.Token);

            var reply = new StringBuilder();
            var buffer = new byte[256];
            while (!reply.ToString().Contains("+PONG\r\n", StringComparison.Ordinal) && !reply.ToString().StartsWith('-'))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                    break;
                reply.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
            var text = reply.ToString();
            return text.StartsWith("+OK\r\n+PONG\r\n", StringComparison.Ordinal)
                ? HealthProbeResult.Ok
                : HealthProbeResult.Fail($"redis at {endpoint.Host}:{endpoint.Port} answered '{text.Trim().ReplaceLineEndings(" ")}'");
        }
        catch (SocketException ex)
        {
            return HealthProbeResult.Fail($"redis at {endpoint.Host}:{endpoint.Port}: {ex.Message}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Fail($"redis at {endpoint.Host}:{endpoint.Port}: no answer within 5s");
        }
        catch (IOException ex)
        {
            return HealthProbeResult.Fail($"redis at {endpoint.Host}:{endpoint.Port}: {ex.Message}");
        }
    }
}
