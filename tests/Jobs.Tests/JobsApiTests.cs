using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Jobs.Tests;

/// <summary>The Jobs API over real HTTP, with real Redis and a real trainer process running the jobs it creates.</summary>
[Collection(JobsCollection.Name)]
public sealed class JobsApiTests(JobsTestBed bed)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(90);

    private static async Task<Dictionary<string, string[]>> ProblemErrorsAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await JobsTestBed.ReadJsonAsync(response);
        return body.GetProperty("errors").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetString()!).ToArray());
    }

    [Fact]
    public async Task InvalidOptionsAreRejectedWithProblemDetailsNamingEachField()
    {
        var dataset = await bed.UploadSumsAsync();
        using var response = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new
        {
            dataset,
            model = "nano",
            colour = "blue",
            lora = new { r = 0, target_modules = new[] { "q_proj", "qkv_fused" } },
            training = new { learning_rate = -1.0, max_steps = 2 },
            export = new { ggufType = "q8_0", colour = "red" },
        }));
        var errors = await ProblemErrorsAsync(response);
        Assert.Contains("colour", errors.Keys);
        Assert.Contains("lora.r", errors.Keys);
        Assert.Contains("training.learning_rate", errors.Keys);
        Assert.Contains("export.colour", errors.Keys);
        Assert.DoesNotContain("export.ggufType", errors.Keys);
        Assert.Contains(errors["lora.target_modules"], m => m.Contains("qkv_fused"));
        Assert.DoesNotContain(errors["lora.target_modules"], m => m.Contains("'q_proj'"));

        using var unknownKey = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new { dataset, model = "nano", training = new { learning_rat = 0.1 } }));
        Assert.Contains("training.learning_rat", (await ProblemErrorsAsync(unknownKey)).Keys);

        using var missing = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new { dataset = "0123456789abcdef", model = "no-such-model" }));
        var missingErrors = await ProblemErrorsAsync(missing);
        Assert.Contains("dataset", missingErrors.Keys);
        Assert.Contains("model", missingErrors.Keys);

        using var traversal = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new { dataset, model = "../models/nano" }));
        Assert.Contains("model", (await ProblemErrorsAsync(traversal)).Keys);

        var jobs = JsonDocument.Parse(await bed.Http.GetStringAsync("/api/jobs")).RootElement;
        Assert.DoesNotContain(jobs.EnumerateArray(), j => j.GetProperty("dataset").GetString() == dataset && j.GetProperty("status").GetString() is "queued" or "preprocessing");
    }

    [Fact]
    public async Task JobFromUploadedFileIsPreprocessedTrainsFromItsShardsToDoneStreamsEventsAndServesArtifacts()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(JsonSerializer.Serialize(JobsTestBed.Options(maxSteps: 4)), Encoding.UTF8, "application/json"), "job" },
            { new StringContent(JobsTestBed.SumsJsonl, Encoding.UTF8, "application/jsonl"), "file", "sums.jsonl" },
        };
        using var created = await bed.Http.PostAsync("/api/jobs", form);
        var createdBody = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, createdBody);
        var id = JsonDocument.Parse(createdBody).RootElement.GetProperty("id").GetString()!;
        Assert.Equal($"/api/jobs/{id}", created.Headers.Location?.OriginalString);

        // SSE from the start: stage events, metrics, then 'end' once the job is final.
        var events = await ReadEventsAsync(id, TimeSpan.FromSeconds(120));
        Assert.Equal("end", events[^1].Name);
        Assert.Contains("\"done\"", events[^1].Data);
        Assert.Contains(events, e => e.Name == "stage" && e.Data.Contains("\"training\""));
        var steps = events.Where(e => e.Name == "metrics").Select(e => JsonDocument.Parse(e.Data).RootElement)
            .Where(m => m.GetProperty("kind").GetString() == "train").Select(m => m.GetProperty("step").GetString()).ToList();
        Assert.Equal(["1", "2", "3", "4"], steps);

        var job = await bed.WaitForStatusAsync(id, s => s == "done", JobTimeout);
        var fields = job.GetProperty("fields");
        var spec = fields.GetProperty("spec");

        // The documented route: preprocessing (shards by the preprocess worker) → training from those shards → done.
        Assert.Contains(events, e => e.Name == "stage" && e.Data.Contains("\"preprocessing\""));
        Assert.Contains(events, e => e.Name == "stage" && e.Data.Contains("\"preprocess\""));
        Assert.Contains(events, e => e.Name == "stage" && e.Data.Contains("\"preprocessed\""));
        var stamps = new[] { "created", "queued_finished", "preprocessing_started", "preprocessing_finished", "training_started", "training_finished", "finished" }
            .Select(f => DateTimeOffset.Parse(fields.GetProperty(f).GetString()!)).ToList();
        Assert.Equal(stamps.OrderBy(t => t), stamps);
        var shards = spec.GetProperty("shards").GetString()!;
        Assert.StartsWith("shards/", shards);
        Assert.True(File.Exists(Path.Combine(bed.DataRoot, shards, "manifest.json")), $"{shards}/manifest.json");
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bed.DataRoot, "jobs", id, "train", "summary.json"))).RootElement;
        Assert.EndsWith(shards, summary.GetProperty("shards").GetString()!.Replace('\\', '/'));
        Assert.Equal("models/nano", spec.GetProperty("model").GetString());
        var dataset = job.GetProperty("dataset").GetString()!;
        Assert.Equal($"datasets/{dataset}/train.jsonl", spec.GetProperty("data").GetString());
        Assert.True(File.Exists(Path.Combine(bed.DataRoot, spec.GetProperty("data").GetString()!)));

        var list = JsonDocument.Parse(await bed.Http.GetStringAsync($"/api/jobs/{id}/artifacts")).RootElement;
        var paths = list.EnumerateArray().Select(a => a.GetProperty("path").GetString()!).ToList();
        const string adapter = "train/adapter/adapter_model.safetensors";
        Assert.Contains(adapter, paths);
        var downloaded = await bed.Http.GetByteArrayAsync($"/api/jobs/{id}/artifacts/{adapter}");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(bed.DataRoot, "jobs", id, adapter)), downloaded);

        // No way out of the job's folder, however the path is spelled.
        await File.WriteAllTextAsync(Path.Combine(bed.DataRoot, "secret.txt"), "secret");
        foreach (var escape in new[] { "..%2F..%2Fsecret.txt", "%2E%2E/%2E%2E/secret.txt", "..%5C..%5Csecret.txt" })
        {
            using var response = await bed.Http.GetAsync($"/api/jobs/{id}/artifacts/{escape}");
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("secret", await response.Content.ReadAsStringAsync());
        }

        var all = JsonDocument.Parse(await bed.Http.GetStringAsync("/api/jobs")).RootElement;
        Assert.Contains(all.EnumerateArray(), j => j.GetProperty("id").GetString() == id);
    }

    [Fact]
    public async Task DefaultTinyModelIsNamedByTheFrontDoorAndWrittenByThePreprocessWorker()
    {
        var dataset = await bed.UploadSumsAsync();
        using var created = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new
        {
            dataset,
            model = "tiny",
            lora = new { r = 4, alpha = 8, dropout = 0 },
            sft = new { max_seq_len = 64 },
            training = new { micro_batch_size = 2, gradient_accumulation_steps = 1, max_steps = 1, warmup_steps = 0 },
        }));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;

        var job = await bed.WaitForStatusAsync(id, s => s is "done" or "failed", JobTimeout);
        Assert.Equal("done", job.GetProperty("status").GetString());
        Assert.Equal("models/tiny-llama", job.GetProperty("fields").GetProperty("spec").GetProperty("model").GetString());
        Assert.True(File.Exists(Path.Combine(bed.DataRoot, "models", "tiny-llama", "config.json")));
        Assert.Contains("Generated model tiny-llama", bed.Preprocess.Output);
    }

    [Fact]
    public async Task JobWithItsOwnEvalSplitTrainsFromTheRecordsShardAndHoldsOutTheSameRecords()
    {
        var dataset = await bed.UploadSumsAsync();
        using var created = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new
        {
            dataset,
            model = "nano",
            eval_split = 0.25,
            lora = new { r = 4, alpha = 8, dropout = 0 },
            sft = new { max_seq_len = 64 },
            training = new { micro_batch_size = 2, gradient_accumulation_steps = 1, max_steps = 2, learning_rate = 0.001, warmup_steps = 0, deterministic = true, seed = 11 },
        }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await JobsTestBed.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        var job = await bed.WaitForStatusAsync(id, s => s is "done" or "failed", JobTimeout);
        Assert.Equal("done", job.GetProperty("status").GetString());
        var shards = job.GetProperty("fields").GetProperty("spec").GetProperty("shards").GetString()!;
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bed.DataRoot, shards, "manifest.json"))).RootElement;
        var files = manifest.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal("records", Assert.Single(files).GetProperty("split").GetString());
        Assert.Equal(16, files[0].GetProperty("records").GetInt32());
        var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(bed.DataRoot, "jobs", id, "train", "summary.json"))).RootElement;
        Assert.Equal(16, summary.GetProperty("train_examples").GetInt32() + summary.GetProperty("eval_examples").GetInt32());
        Assert.Equal(4, summary.GetProperty("eval_examples").GetInt32());
    }

    [Fact]
    public async Task RunningJobIsCancelledAndOnlyThenDeletable()
    {
        var dataset = await bed.UploadSumsAsync();
        using var created = await bed.Http.PostAsync("/api/jobs", JobsTestBed.Json(new
        {
            dataset,
            model = "nano",
            lora = new { r = 4, alpha = 8 },
            sft = new { max_seq_len = 64 },
            training = new { micro_batch_size = 2, gradient_accumulation_steps = 1, max_steps = 100000, learning_rate = 0.001 },
        }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await JobsTestBed.ReadJsonAsync(created)).GetProperty("id").GetString()!;
        await bed.WaitForStatusAsync(id, s => s == "training", JobTimeout);

        using (var refused = await bed.Http.DeleteAsync($"/api/jobs/{id}"))
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        using (var datasetInUse = await bed.Http.DeleteAsync($"/api/datasets/{dataset}"))
            Assert.Equal(HttpStatusCode.Conflict, datasetInUse.StatusCode);

        using (var cancel = await bed.Http.PostAsync($"/api/jobs/{id}/cancel", null))
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        await bed.WaitForStatusAsync(id, s => s == "cancelled", JobTimeout);
        using (var again = await bed.Http.PostAsync($"/api/jobs/{id}/cancel", null))
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        using (var deleted = await bed.Http.DeleteAsync($"/api/jobs/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using (var gone = await bed.Http.GetAsync($"/api/jobs/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.False(Directory.Exists(Path.Combine(bed.DataRoot, "jobs", id)));
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheJobsEndpoints()
    {
        var doc = JsonDocument.Parse(await bed.Http.GetStringAsync("/openapi/v1.json")).RootElement.GetProperty("paths");
        foreach (var path in new[] { "/api/jobs", "/api/jobs/{id}", "/api/jobs/{id}/cancel", "/api/jobs/{id}/artifacts", "/api/jobs/{id}/events" })
            Assert.True(doc.TryGetProperty(path, out _), $"{path} is missing from the OpenAPI document");
    }

    private sealed record SseEvent(string Name, string Id, string Data);

    /// <summary>Reads GET /api/jobs/{id}/events until the server ends the stream (after the 'end' event).</summary>
    private async Task<List<SseEvent>> ReadEventsAsync(string id, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{id}/events");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await bed.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));
        var events = new List<SseEvent>();
        string name = "message", eventId = "", data = "";
        while (await reader.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.Length == 0)
            {
                events.Add(new SseEvent(name, eventId, data));
                name = "message";
                data = "";
                continue;
            }
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("id: ", StringComparison.Ordinal)) eventId = line[4..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
        }
        return events;
    }
}
