using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spectre.Console;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft watch &lt;id&gt; [--endpoint URL] [--json]</c>: follows a job's Server-Sent Events (stage events and metrics) with a
/// live progress bar and a loss sparkline; exits 0 when the job is done, 1 when it failed or was cancelled. With --json (or
/// when stdout is not a terminal) it prints one JSON object per event instead.
/// </summary>
public static partial class WatchCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var endpoint = JobsClient.EndpointOption();
        var json = new Option<bool>("--json") { Description = "One JSON object per event: {event, data}" };
        var command = new Command("watch", "Follow a job live: progress bar, loss sparkline, stage events") { id, endpoint, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(id)!;
            using var client = new JobsClient(parse.GetValue(endpoint));
            var events = client.EventsAsync(jobId, cancellationToken);
            var status = parse.GetValue(json) || Console.IsOutputRedirected
                ? await PrintAsync(events)
                : await ShowAsync(jobId, events);
            return status == "done" ? 0 : 1;
        });
        return command;
    }

    private static async Task<string?> PrintAsync(IAsyncEnumerable<(string Name, JsonElement Data)> events)
    {
        string? status = null;
        await foreach (var (name, data) in events)
        {
            CliJson.Write(new { @event = name, data });
            if (name == "end") status = data.GetProperty("status").GetString();
        }
        return status;
    }

    private static async Task<string?> ShowAsync(string jobId, IAsyncEnumerable<(string Name, JsonElement Data)> events)
    {
        string? status = null;
        var losses = new List<double>();
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(jobId), maxValue: 1);
                task.IsIndeterminate = true;
                await foreach (var (name, data) in events)
                {
                    switch (name)
                    {
                        case "stage":
                            var message = data.GetProperty("message").GetString() ?? "";
                            var ts = Field(data, "ts");
                            var time = ts.Length >= 19 ? ts[11..19] : ts; // HH:mm:ss of the ISO-8601 timestamp
                            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(time)}[/] [bold]{Markup.Escape(Field(data, "kind"))}[/] {Markup.Escape(message)}");
                            if (StepsPattern().Match(message) is { Success: true } m)
                            {
                                task.MaxValue = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                                task.IsIndeterminate = false;
                            }
                            break;
                        case "metrics" when Field(data, "kind") == "train":
                            var step = Number(data, "step");
                            var loss = Number(data, "loss");
                            losses.Add(loss);
                            task.Value = step;
                            task.Description = $"step {step:0} loss {loss:0.000} [green]{Sparkline.Render(losses, 20)}[/] {Number(data, "tokens_per_s"):0}t/s";
                            break;
                        case "metrics":
                            AnsiConsole.MarkupLine($"[blue]eval[/] step {Number(data, "step"):0}: loss {Number(data, "eval_loss"):0.0000}, ppl {Number(data, "eval_ppl"):0.00}");
                            break;
                        case "end":
                            status = Field(data, "status");
                            if (status == "done") task.Value = task.MaxValue;
                            task.StopTask();
                            break;
                    }
                }
            });
        var colour = status == "done" ? "green" : "red";
        AnsiConsole.MarkupLine($"job {Markup.Escape(jobId)}: [{colour}]{Markup.Escape(status ?? "stream ended")}[/]");
        return status;
    }

    private static string Field(JsonElement data, string name) =>
        data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static double Number(JsonElement data, string name) =>
        double.TryParse(Field(data, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    /// <summary>The trainer's "training" event: "... N examples, S steps".</summary>
    [GeneratedRegex(@"(\d+) steps")]
    private static partial Regex StepsPattern();
}
