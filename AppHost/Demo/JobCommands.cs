using System.Net.Http.Json;
using System.Text.Json;

namespace FineTune.AppHost.Demo;

/// <summary>
/// Dashboard commands on the front door, through its public Jobs API (as `ft` would): submit the embedded default job, and
/// cancel the newest unfinished job. Each answers with a toast; an HTTP error becomes its message, never an exception.
/// </summary>
internal static class JobCommands
{
    public const string RunDemo = "run-demo-job";
    public const string CancelNewest = "cancel-newest-job";

    public static IResourceBuilder<ProjectResource> WithJobCommands(this IResourceBuilder<ProjectResource> frontDoor, DemoJobOptions options)
    {
        var endpoint = frontDoor.GetEndpoint("http");
        frontDoor.WithCommand(RunDemo, "Run the demo job", async context =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(endpoint.Url), Timeout = TimeSpan.FromMinutes(2) };
            using var response = await http.PostAsJsonAsync("/api/jobs/demo", DemoJobClient.Request(options), context.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
            return response.IsSuccessStatusCode
                ? new ExecuteCommandResult { Success = true, Message = $"submitted {JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()}" }
                : CommandResults.Failure($"POST /api/jobs/demo answered {(int)response.StatusCode}: {body}");
        }, new CommandOptions { Description = "POST /api/jobs/demo: the embedded default job (seed-003 extraction)", IconName = "Play", IsHighlighted = true, UpdateState = Enabled });

        frontDoor.WithCommand(CancelNewest, "Cancel the newest unfinished job", async context =>
        {
            using var http = new HttpClient { BaseAddress = new Uri(endpoint.Url), Timeout = TimeSpan.FromMinutes(1) };
            var jobs = await http.GetFromJsonAsync<JsonElement>("/api/jobs", context.CancellationToken);
            var open = jobs.EnumerateArray().FirstOrDefault(j => j.GetProperty("status").GetString() is not ("done" or "failed" or "cancelled"));
            if (open.ValueKind != JsonValueKind.Object) return new ExecuteCommandResult { Success = true, Message = "no unfinished job" };
            var id = open.GetProperty("id").GetString();
            using var response = await http.PostAsync($"/api/jobs/{id}/cancel", null, context.CancellationToken);
            return response.IsSuccessStatusCode
                ? new ExecuteCommandResult { Success = true, Message = $"asked {id} to stop" }
                : CommandResults.Failure($"POST /api/jobs/{id}/cancel answered {(int)response.StatusCode}");
        }, new CommandOptions { Description = "POST /api/jobs/{id}/cancel for the newest job that is not done, failed or cancelled", IconName = "Stop", UpdateState = Enabled });
        return frontDoor;
    }

    /// <summary>Enabled while the front door is healthy.</summary>
    private static ResourceCommandState Enabled(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus is Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
            ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;
}
