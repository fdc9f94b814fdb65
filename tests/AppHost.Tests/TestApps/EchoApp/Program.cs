// A tiny service run by the AppHost tests. It answers /health through the real ServiceDefaults, echoes its process id
// and environment at /env, and, when asked through its environment:
//   ECHO_HEALTH_GATE_FILE=<path>  stays unhealthy until that file exists (to test WaitFor ordering);
//   ECHO_SPAWN_CHILD=1            starts a grandchild process (to prove shutdown reaches the whole process group).

using System.Collections;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddHealthChecks().AddCheck("gate", () =>
{
    var gate = Environment.GetEnvironmentVariable("ECHO_HEALTH_GATE_FILE");
    if (gate is null || File.Exists(gate))
        return HealthCheckResult.Healthy();
    Console.WriteLine($"health gate closed: {gate}");
    return HealthCheckResult.Unhealthy($"waiting for {gate}");
});

Process? grandchild = null;
if (Environment.GetEnvironmentVariable("ECHO_SPAWN_CHILD") == "1")
    grandchild = Process.Start(new ProcessStartInfo("sleep", "3600") { UseShellExecute = false });

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapGet("/env", () => new EchoReply(
    Environment.ProcessId,
    grandchild?.Id,
    Environment.GetEnvironmentVariables().Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string?)e.Value)));
app.Run();

internal sealed record EchoReply(int Pid, int? GrandchildPid, Dictionary<string, string?> Environment);
