using System.CommandLine;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft artifacts &lt;id&gt; [--out dir] [--endpoint URL] [--json]</c>: lists a job's files; with --out, downloads them
/// (each written to a temp file and renamed, so nothing is left half-written).
/// </summary>
public static class ArtifactsCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "Job id" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Download every file into this folder (keeping the job folder's layout)" };
        var endpoint = JobsClient.EndpointOption();
        var json = new Option<bool>("--json") { Description = "Print the list as JSON (path, bytes, modified; plus file when downloaded)" };
        var command = new Command("artifacts", "List or download a job's artifacts") { id, output, endpoint, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var jobId = parse.GetValue(id)!;
            using var client = new JobsClient(parse.GetValue(endpoint));
            var list = await client.SendAsync(HttpMethod.Get, $"api/jobs/{Uri.EscapeDataString(jobId)}/artifacts", null, cancellationToken);
            var outDir = parse.GetValue(output);
            var rows = new List<object>();
            foreach (var entry in list.EnumerateArray())
            {
                var path = entry.GetProperty("path").GetString()!;
                var bytes = entry.GetProperty("bytes").GetInt64();
                string? file = null;
                if (outDir is not null)
                {
                    file = Path.GetFullPath(Path.Combine(outDir.FullName, path));
                    if (!file.StartsWith(Path.GetFullPath(outDir.FullName) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                        throw new CliException($"the server listed '{path}', which is outside {outDir.FullName}");
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    var temp = file + ".part";
                    var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
                    await using (var source = await client.OpenReadAsync($"api/jobs/{Uri.EscapeDataString(jobId)}/artifacts/{escaped}", cancellationToken))
                    await using (var target = File.Create(temp))
                        await source.CopyToAsync(target, cancellationToken);
                    File.Move(temp, file, overwrite: true);
                    Console.Error.WriteLine($"ft: {path} ({bytes:N0} bytes)");
                }
                rows.Add(new { path, bytes, modified = entry.GetProperty("modified").GetString(), file });
                if (!parse.GetValue(json) && outDir is null) Console.Out.WriteLine($"{bytes,12:N0}  {path}");
            }
            if (parse.GetValue(json)) CliJson.Write(rows);
            else if (outDir is not null) Console.Out.WriteLine($"{rows.Count} file(s) in {outDir.FullName}");
            return 0;
        });
        return command;
    }
}
