using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dataset.Api.Model;
using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using StackExchange.Redis;

namespace Dataset.Api.Apis;

/// <summary>
/// The Jobs API (the front door): create a job from a dataset id or an uploaded file, list, get, cancel, delete, artifacts,
/// and the job's events as Server-Sent Events. A created job goes to the preprocess worker first (status preprocessing);
/// <see cref="Services.JobRouter"/> queues it on <c>ft:train:jobs</c> once its shards are ready (see docs/jobs.md).
/// </summary>
public static class JobsApi
{
    private static readonly ActivitySource Source = new(ApplicationServiceExtensions.TelemetryName);
    private static readonly TimeSpan SsePoll = TimeSpan.FromMilliseconds(250);

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/jobs").WithTags("Jobs");
        api.MapPost("/", CreateAsync).WithName("CreateJob")
            .WithSummary("Create a job: JSON {dataset, model, eval_split, lora, sft, training, eval, export}, or multipart with 'file' (a dataset) and 'job' (that JSON)")
            .DisableAntiforgery();
        api.MapGet("/", ListAsync).WithName("ListJobs").WithSummary("All jobs, newest first");
        api.MapGet("/{id}", GetAsync).WithName("GetJob").WithSummary("One job: status, stage timestamps, spec, artifacts, eval");
        api.MapPost("/{id}/cancel", CancelAsync).WithName("CancelJob").WithSummary("Ask the job to stop (the trainer stops within one step)");
        api.MapDelete("/{id}", DeleteAsync).WithName("DeleteJob").WithSummary("Delete a finished job: record, streams and files");
        api.MapGet("/{id}/artifacts", ArtifactsAsync).WithName("ListJobArtifacts").WithSummary("Files under the job's folder");
        api.MapGet("/{id}/artifacts/{*path}", DownloadAsync).WithName("DownloadJobArtifact").WithSummary("Download one file of the job's folder");
        api.MapGet("/{id}/events", EventsAsync).WithName("JobEvents")
            .WithSummary("Server-Sent Events: 'stage' (ft:job:{id}:events), 'metrics' (ft:job:{id}:metrics), then 'end' with the final status");
        return app;
    }

    public static async Task<Results<Created<CreateJobResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("job create");
        var errors = new Dictionary<string, List<string>>();
        JsonObject? body;
        DatasetInfo? dataset = null;
        string? datasetId = null;

        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) && mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var upload = await ReadMultipartAsync(request, mediaType, services, cancellationToken);
            if (upload.Problem is { } problem) return problem;
            body = upload.Body ?? [];
            dataset = upload.Dataset;
            datasetId = dataset?.Id;
            if (body.ContainsKey("dataset")) Add(errors, "dataset", "give either an uploaded file or a dataset id, not both");
        }
        else
        {
            (body, var error) = await JsonBody.ReadObjectAsync(request.Body, "the body", cancellationToken);
            if (body is null) return Problem(400, "Invalid JSON", error!);
            if (body["dataset"] is { } idNode)
            {
                datasetId = idNode.GetValueKind() == JsonValueKind.String ? idNode.GetValue<string>() : idNode.ToJsonString();
                dataset = DatasetId.IsValid(datasetId) && services.Store.Exists(datasetId) ? await services.Registry.GetAsync(datasetId) : null;
            }
        }

        var result = JobSpecBuilder.Build(body, dataset, datasetId, services.Root, errors);
        if (result is null)
            return TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "The job was rejected",
                detail: string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));

        var id = await JobSubmitter.SubmitAsync(services, result, dataset!);
        activity?.SetTag("ft.job.id", id);
        return TypedResults.Created($"/api/jobs/{id}", new CreateJobResponse(id, JobStatus.Preprocessing, dataset!.Id, result.Model, $"/api/jobs/{id}/events"));
    }

    private sealed record MultipartUpload(JsonObject? Body, DatasetInfo? Dataset, ProblemHttpResult? Problem);

    /// <summary>Parts: 'job' (the JSON options; must come before the file) and 'file' (the dataset, imported like POST /api/datasets).</summary>
    private static async Task<MultipartUpload> ReadMultipartAsync(HttpRequest request, MediaTypeHeaderValue mediaType, JobServices services, CancellationToken cancellationToken)
    {
        var limit = services.Limits.MaxUploadBytes;
        if (request.ContentLength > limit) return new(null, null, Problem(413, "Upload too large", $"the upload is {request.ContentLength} bytes, over the {limit}-byte limit"));
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = null; // enforced while streaming
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) return new(null, null, Problem(400, "Invalid multipart upload", "the multipart Content-Type has no boundary"));
        var reader = new MultipartReader(boundary, new LimitedReadStream(request.Body, limit + 64 * 1024)) { BodyLengthLimit = null };
        JsonObject? body = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)) continue;
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "job")
                {
                    (body, var error) = await JsonBody.ReadObjectAsync(section.Body, "part 'job'", cancellationToken);
                    if (body is null) return new(null, null, Problem(400, "Invalid JSON", error!));
                }
                else if (name == "file")
                {
                    var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    var result = await services.Store.IngestAsync(new LimitedReadStream(section.Body, limit), new IngestOptions
                    {
                        Name = fileName ?? "dataset",
                        Format = DatasetFormat.Auto,
                        MaxRecordBytes = services.Limits.MaxRecordBytes,
                    }, cancellationToken);
                    if (result is IngestResult.Rejected rejected)
                        return new(null, null, Problem(400, "The dataset was rejected", RejectionDetail.Describe(rejected),
                            new Dictionary<string, object?> { ["errors"] = rejected.Errors.Select(IssueDto.From).ToList() }));
                    var stored = (IngestResult.Stored)result;
                    await services.Registry.RegisterAsync(stored.Info);
                    return new(body, await services.Registry.GetAsync(stored.Info.Id) ?? stored.Info, null);
                }
            }
        }
        catch (UploadTooLargeException ex)
        {
            return new(null, null, Problem(413, "Upload too large", ex.Message));
        }
        return new(null, null, Problem(400, "Invalid multipart upload", "no 'file' part (use -F job='{...}' -F file=@data.jsonl, job first)"));
    }

    public static async Task<Ok<List<JobView>>> ListAsync([AsParameters] JobServices services, int? max)
    {
        var ids = await services.Redis.GetDatabase().SortedSetRangeByRankAsync(StreamNames.Jobs, 0, Math.Clamp(max ?? 100, 1, 1000) - 1, Order.Descending);
        var views = new List<JobView>(ids.Length);
        foreach (var id in ids)
            if (await services.Jobs.GetAsync(id.ToString()) is { } record) views.Add(View(record));
        return TypedResults.Ok(views);
    }

    public static async Task<Results<Ok<JobView>, NotFound>> GetAsync(string id, [AsParameters] JobServices services) =>
        JobId.IsValid(id) && await services.Jobs.GetAsync(id) is { } record ? TypedResults.Ok(View(record)) : TypedResults.NotFound();

    public static async Task<Results<Accepted<JobView>, NotFound, ProblemHttpResult>> CancelAsync(string id, [AsParameters] JobServices services)
    {
        if (!JobId.IsValid(id) || await services.Jobs.GetAsync(id) is not { } record) return TypedResults.NotFound();
        var status = record.GetValueOrDefault("status");
        if (JobStatus.IsFinal(status)) return Problem(409, "Job already finished", $"job {id} is {status}");
        await services.Jobs.RequestCancelAsync(id);
        if (status is JobStatus.Queued or JobStatus.Preprocessing)
            await services.Jobs.SetStatusAsync(id, JobStatus.Cancelled); // no trainer has it yet: the router and any trainer see it is final
        services.Logger.LogInformation("Cancellation of job {JobId} requested (was {Status})", id, status);
        return TypedResults.Accepted($"/api/jobs/{id}", View((await services.Jobs.GetAsync(id))!));
    }

    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(string id, [AsParameters] JobServices services)
    {
        if (!JobId.IsValid(id) || await services.Jobs.GetAsync(id) is not { } record) return TypedResults.NotFound();
        var status = record.GetValueOrDefault("status");
        if (!JobStatus.IsFinal(status))
            return Problem(409, "Job is running", $"job {id} is {status}; cancel it first (POST /api/jobs/{id}/cancel)");
        var db = services.Redis.GetDatabase();
        await db.KeyDeleteAsync([StreamNames.Job(id), StreamNames.JobMetrics(id), StreamNames.JobEvents(id)]);
        await db.SortedSetRemoveAsync(StreamNames.Jobs, id);
        var folder = services.JobFolder(id);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        services.Logger.LogInformation("Deleted job {JobId}", id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<List<ArtifactEntry>>, NotFound>> ArtifactsAsync(string id, [AsParameters] JobServices services)
    {
        if (!JobId.IsValid(id) || await services.Jobs.GetAsync(id) is null) return TypedResults.NotFound();
        var folder = services.JobFolder(id);
        if (!Directory.Exists(folder)) return TypedResults.Ok(new List<ArtifactEntry>());
        var entries = new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories)
            .Where(f => !f.Name.Contains(".tmp", StringComparison.Ordinal))
            .Select(f => new ArtifactEntry(Path.GetRelativePath(folder, f.FullName).Replace('\\', '/'), f.Length, f.LastWriteTimeUtc))
            .OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
        return TypedResults.Ok(entries);
    }

    public static async Task<Results<PhysicalFileHttpResult, NotFound, ProblemHttpResult>> DownloadAsync(string id, string path, [AsParameters] JobServices services)
    {
        if (!JobId.IsValid(id) || await services.Jobs.GetAsync(id) is null) return TypedResults.NotFound();
        var folder = Path.GetFullPath(services.JobFolder(id)) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(folder, path));
        if (!full.StartsWith(folder, StringComparison.Ordinal) || path.Contains('\0'))
            return Problem(400, "Invalid path", $"'{path}' is outside the job's folder");
        if (!File.Exists(full)) return TypedResults.NotFound();
        return TypedResults.PhysicalFile(full, "application/octet-stream", Path.GetFileName(full));
    }

    /// <summary>
    /// Streams the job's stage events and metrics as SSE until the job is final and both streams are drained. Event ids are
    /// "&lt;eventsId&gt;|&lt;metricsId&gt;", so a client reconnecting with Last-Event-ID resumes where it stopped.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, NotFound>> EventsAsync(string id, HttpContext context, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        if (!JobId.IsValid(id) || await services.Jobs.GetAsync(id) is null) return TypedResults.NotFound();
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.Body.FlushAsync(cancellationToken);

        var positions = (context.Request.Headers["Last-Event-ID"].ToString() is { Length: > 0 } last && last.Split('|') is [var e, var m])
            ? (Events: e, Metrics: m) : (Events: "0-0", Metrics: "0-0");
        var db = services.Redis.GetDatabase();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Status first: when it is final, everything written before it is in the streams and one more read drains them.
                var status = await services.Jobs.GetFieldAsync(id, "status");
                var events = await db.StreamRangeAsync(StreamNames.JobEvents(id), Next(positions.Events), "+", 200);
                var metrics = await db.StreamRangeAsync(StreamNames.JobMetrics(id), Next(positions.Metrics), "+", 500);
                foreach (var entry in events)
                {
                    positions.Events = entry.Id.ToString();
                    await WriteEventAsync(response, "stage", positions, entry, cancellationToken);
                }
                foreach (var entry in metrics)
                {
                    positions.Metrics = entry.Id.ToString();
                    await WriteEventAsync(response, "metrics", positions, entry, cancellationToken);
                }
                if (events.Length + metrics.Length > 0) await response.Body.FlushAsync(cancellationToken);
                if (JobStatus.IsFinal(status) && events.Length < 200 && metrics.Length < 500)
                {
                    await response.WriteAsync($"event: end\ndata: {JsonSerializer.Serialize(new { status })}\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    break;
                }
                if (events.Length + metrics.Length == 0) await Task.Delay(SsePoll, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the client went away
        }
        return TypedResults.Empty;
    }

    /// <summary>The exclusive start after <paramref name="id"/> (XRANGE with "(" needs Redis 6.2; this works everywhere).</summary>
    private static string Next(string id)
    {
        var dash = id.IndexOf('-');
        return dash < 0 ? id : $"{id[..dash]}-{ulong.Parse(id[(dash + 1)..]) + 1}";
    }

    private static async Task WriteEventAsync(HttpResponse response, string name, (string Events, string Metrics) positions, StreamEntry entry, CancellationToken cancellationToken)
    {
        var data = entry.Values.Where(v => v.Name != StreamNames.TraceParentField && v.Name != StreamNames.TraceStateField)
            .ToDictionary(v => v.Name.ToString(), v => v.Value.ToString());
        var text = new StringBuilder()
            .Append("event: ").Append(name).Append('\n')
            .Append("id: ").Append(positions.Events).Append('|').Append(positions.Metrics).Append('\n')
            .Append("data: ").Append(JsonSerializer.Serialize(data)).Append("\n\n");
        await response.WriteAsync(text.ToString(), cancellationToken);
    }

    private static JobView View(IReadOnlyDictionary<string, string> record)
    {
        var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in record)
            fields[key] = key is "spec" or "artifacts" or "eval" or "export" && TryJson(value) is { } json ? json : value;
        return new JobView(record.GetValueOrDefault("id") ?? "", record.GetValueOrDefault("status") ?? "", record.GetValueOrDefault("created"),
            record.GetValueOrDefault("dataset"), record.GetValueOrDefault("model"), record.GetValueOrDefault("error"), fields);
    }

    private static JsonElement? TryJson(string value)
    {
        try { return JsonDocument.Parse(value).RootElement.Clone(); }
        catch (JsonException) { return null; }
    }

    private static void Add(Dictionary<string, List<string>> errors, string field, string message)
    {
        if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
        list.Add(message);
    }

    private static ProblemHttpResult Problem(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
}
