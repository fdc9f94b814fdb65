using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace FineTune.Cli.Commands;

/// <summary>
/// <c>ft submit &lt;dataset&gt; [--model tiny] [--options job.json] [--max-steps N] [--epochs E] [--learning-rate LR] [--lora-r R]
/// [--export] [--endpoint URL] [--json]</c>: creates a job through POST /api/jobs from a dataset file (uploaded with the job)
/// or a dataset id; prints the job id.
/// </summary>
public static class SubmitCommand
{
    public static Command Create()
    {
        var dataset = new Argument<string>("dataset") { Description = "A dataset file to upload (JSONL, JSON, text blocks, CSV) or the id of an uploaded dataset" };
        var model = new Option<string?>("--model") { Description = "Base model: a folder name under the data root's models/, or 'tiny' (default)" };
        var options = new Option<FileInfo?>("--options") { Description = "JSON file with the job sections: lora, sft, training, eval, eval_split, export (docs/jobs.md)" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "training.max_steps" };
        var epochs = new Option<double?>("--epochs") { Description = "training.epochs" };
        var learningRate = new Option<double?>("--learning-rate") { Description = "training.learning_rate" };
        var loraR = new Option<int?>("--lora-r") { Description = "lora.r" };
        var export = new Option<bool>("--export") { Description = "Merge and export (GGUF + Modelfile) after training" };
        var endpoint = JobsClient.EndpointOption();
        var json = new Option<bool>("--json") { Description = "Print the created job as one JSON object" };
        var command = new Command("submit", "Submit a fine-tuning job to the running system")
        {
            dataset, model, options, maxSteps, epochs, learningRate, loraR, export, endpoint, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var body = await ReadOptionsAsync(parse.GetValue(options), cancellationToken);
            if (parse.GetValue(model) is { } m) body["model"] = m;
            Set(body, "training", "max_steps", parse.GetValue(maxSteps));
            Set(body, "training", "epochs", parse.GetValue(epochs));
            Set(body, "training", "learning_rate", parse.GetValue(learningRate));
            Set(body, "lora", "r", parse.GetValue(loraR));
            if (parse.GetValue(export)) body["export"] = true;

            using var client = new JobsClient(parse.GetValue(endpoint));
            using (var content = Content(parse.GetValue(dataset)!, body, client))
            {
                var job = await client.SendAsync(HttpMethod.Post, "api/jobs", content, cancellationToken);
                if (parse.GetValue(json)) Console.Out.WriteLine(job.GetRawText());
                else Console.Out.WriteLine(job.GetProperty("id").GetString());
            }
            return 0;
        });
        return command;
    }

    /// <summary>The job body from --options (an empty object without it).</summary>
    private static async Task<JsonObject> ReadOptionsAsync(FileInfo? file, CancellationToken cancellationToken)
    {
        if (file is null) return [];
        if (!file.Exists) throw new CliException($"{file.FullName}: options file not found");
        return JsonNode.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken)) as JsonObject
            ?? throw new CliException($"{file.FullName}: must hold a JSON object");
    }

    /// <summary>A dataset file goes up with the job (multipart 'job' + 'file'); anything else is a dataset id in the JSON body.</summary>
    private static HttpContent Content(string source, JsonObject body, JobsClient client)
    {
        if (!File.Exists(source))
        {
            body["dataset"] = source;
            return new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        Console.Error.WriteLine($"ft: uploading {source} with the job to {client.Endpoint}");
        var fileContent = new StreamContent(File.OpenRead(source));
        fileContent.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return new MultipartFormDataContent
        {
            { new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), "job" },
            { fileContent, "file", Path.GetFileName(source) },
        };
    }

    private static void Set<T>(JsonObject body, string section, string key, T? value) where T : struct
    {
        if (value is null) return;
        if (body[section] is not JsonObject obj) body[section] = obj = [];
        obj[key] = JsonValue.Create(value.Value);
    }
}
