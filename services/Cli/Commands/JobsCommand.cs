using System.CommandLine;
using Spectre.Console;

namespace FineTune.Cli.Commands;

/// <summary><c>ft jobs [--endpoint URL] [--json]</c>: the jobs of the running system, newest first.</summary>
public static class JobsCommand
{
    public static Command Create()
    {
        var endpoint = JobsClient.EndpointOption();
        var json = new Option<bool>("--json") { Description = "Print the API's JSON array as is" };
        var command = new Command("jobs", "List the jobs of the running system") { endpoint, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = new JobsClient(parse.GetValue(endpoint));
            var jobs = await client.SendAsync(HttpMethod.Get, "api/jobs", null, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(jobs.GetRawText());
                return 0;
            }
            var table = new Table().AddColumns("id", "status", "created", "dataset", "model", "error");
            foreach (var job in jobs.EnumerateArray())
            {
                string Field(string name) => job.TryGetProperty(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString()! : "";
                var created = Field("created");
                table.AddRow([.. new[] { Field("id"), Field("status"), created.Length >= 19 ? created[..19].Replace('T', ' ') : created, Field("dataset"), Field("model"), Field("error") }
                    .Select(Markup.Escape)]);
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
