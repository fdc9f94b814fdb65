using System.CommandLine;

namespace FineTune.Cli.Commands;

/// <summary><c>ft cancel &lt;id&gt; [--endpoint URL] [--json]</c>: asks a job to stop (POST /api/jobs/{id}/cancel).</summary>
public static class CancelCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var endpoint = JobsClient.EndpointOption();
        var json = new Option<bool>("--json") { Description = "Print the job as one JSON object" };
        var command = new Command("cancel", "Cancel a job (the trainer stops within one step)") { id, endpoint, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = new JobsClient(parse.GetValue(endpoint));
            var job = await client.SendAsync(HttpMethod.Post, $"api/jobs/{Uri.EscapeDataString(parse.GetValue(id)!)}/cancel", null, cancellationToken);
            if (parse.GetValue(json)) Console.Out.WriteLine(job.GetRawText());
            else Console.Out.WriteLine($"{job.GetProperty("id").GetString()}: cancellation requested ({job.GetProperty("status").GetString()})");
            return 0;
        });
        return command;
    }
}
