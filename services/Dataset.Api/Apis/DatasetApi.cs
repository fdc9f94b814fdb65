using System.Diagnostics;
using Dataset.Api.Model;
using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;

namespace Dataset.Api.Apis;

public static class DatasetApi
{
    private static readonly ActivitySource Source = new(ApplicationServiceExtensions.TelemetryName);

    public static IEndpointRouteBuilder MapDatasetApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/datasets").WithTags("Datasets");
        api.MapPost("/", UploadAsync).WithName("UploadDataset")
            .WithSummary("Upload a dataset (raw body or multipart 'file'); validated while streaming, stored only when valid")
            .DisableAntiforgery();
        api.MapGet("/", ListAsync).WithName("ListDatasets").WithSummary("All datasets, newest first");
        api.MapGet("/{id}", GetAsync).WithName("GetDataset").WithSummary("One dataset's metadata");
        api.MapGet("/{id}/preview", PreviewAsync).WithName("PreviewDataset").WithSummary("The first records, as messages and rendered text");
        api.MapGet("/{id}/stats", StatsAsync).WithName("DatasetStats").WithSummary("Records, turns, characters, token estimate, split");
        api.MapDelete("/{id}", DeleteAsync).WithName("DeleteDataset").WithSummary("Delete a dataset no unfinished job uses");
        api.MapPost("/{id}/preprocess", PreprocessAsync).WithName("PreprocessDataset").WithSummary("Queue tokenization into shards for a model");
        return app;
    }

    public static async Task<Results<Created<UploadResponse>, Ok<UploadResponse>, ProblemHttpResult>> UploadAsync(
        HttpRequest request, [AsParameters] UploadQuery query, [AsParameters] DatasetServices services, CancellationToken cancellationToken)
    {
        if (!DatasetFormats.TryParse(query.Format, out var format))
            return Problem(400, "Unknown format", $"format '{query.Format}' is not one of auto, input-output, instruction, chat, sharegpt, prompt-completion, text, csv");
        if (query.EvalRatio is < 0 or >= 1)
            return Problem(400, "Invalid split", $"evalRatio must be in [0, 1), got {query.EvalRatio}");
        if (query.Model is { } model && ModelProblem(services.Root, model) is { } modelProblem)
            return modelProblem;
        var limit = services.Limits.MaxUploadBytes;
        if (request.ContentLength > limit)
            return Problem(413, "Upload too large", $"the upload is {request.ContentLength} bytes, over the {limit}-byte limit");
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
            sizeFeature.MaxRequestBodySize = null; // enforced below, while streaming, with a clear problem response

        using var activity = Source.StartActivity("dataset upload");
        var (body, fileName, bodyProblem) = await OpenBodyAsync(request, limit, cancellationToken);
        if (bodyProblem is not null) return bodyProblem;

        var options = new IngestOptions
        {
            Name = query.Name ?? fileName ?? "dataset",
            Format = format,
            DropDuplicates = query.DropDuplicates ?? false,
            EvalRatio = query.EvalRatio ?? 0.1,
            Seed = query.Seed ?? 42,
            MaxTokens = query.MaxTokens,
            MaxRecordBytes = services.Limits.MaxRecordBytes,
        };
        IngestResult result;
        try
        {
            result = await services.Store.IngestAsync(new LimitedReadStream(body, limit), options, cancellationToken);
        }
        catch (UploadTooLargeException ex)
        {
            return Problem(413, "Upload too large", ex.Message);
        }

        activity?.SetTag("dataset.format", result.Format);
        if (result is IngestResult.Rejected rejected)
        {
            services.Logger.LogInformation("Rejected upload {Name}: {ErrorCount} error(s), format {Format}", options.Name, rejected.ErrorCount, rejected.Format);
            return Rejection(rejected);
        }

        var stored = (IngestResult.Stored)result;
        var requestId = await AnnounceAsync(stored, query, services, activity);
        var info = await services.Registry.GetAsync(stored.Info.Id) ?? stored.Info;
        var response = new UploadResponse(info, stored.Existed, stored.WarningCount, stored.Warnings.Select(IssueDto.From).ToList(), requestId);
        return stored.Existed ? TypedResults.Ok(response) : TypedResults.Created($"/api/datasets/{info.Id}", response);
    }

    /// <summary>
    /// The upload's bytes: the raw body, or the multipart body's 'file' part (first part with a file name or named file),
    /// with that part's file name. A problem instead when the multipart body is malformed, lacks the part or is too large.
    /// </summary>
    private static async Task<(Stream Body, string? FileName, ProblemHttpResult? Problem)> OpenBodyAsync(
        HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return (request.Body, null, null);
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) return (request.Body, null, Problem(400, "Invalid multipart upload", "the multipart Content-Type has no boundary"));
        var reader = new MultipartReader(boundary, new LimitedReadStream(request.Body, limit + 64 * 1024)) { BodyLengthLimit = null };
        MultipartSection? section;
        string? fileName = null;
        try
        {
            while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
            {
                if (ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    && (disposition.FileName.HasValue || disposition.FileNameStar.HasValue || disposition.Name.Value == "file"))
                {
                    fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    break;
                }
            }
        }
        catch (UploadTooLargeException ex)
        {
            return (request.Body, null, Problem(413, "Upload too large", ex.Message));
        }
        if (section is null) return (request.Body, null, Problem(400, "Invalid multipart upload", "no file part (use -F file=@data.jsonl)"));
        return (section.Body, fileName, null);
    }

    /// <summary>400 with the error and warning counts and the first issues of each, as problem extensions.</summary>
    private static ProblemHttpResult Rejection(IngestResult.Rejected rejected) =>
        Problem(400, "The dataset was rejected", RejectionDetail.Describe(rejected),
            new Dictionary<string, object?>
            {
                ["format"] = rejected.Format,
                ["errorCount"] = rejected.ErrorCount,
                ["errors"] = rejected.Errors.Select(IssueDto.From).ToList(),
                ["warningCount"] = rejected.WarningCount,
                ["warnings"] = rejected.Warnings.Select(IssueDto.From).ToList(),
            });

    /// <summary>Registers the stored dataset and, when the upload named a model, queues its preprocessing; returns that request's id.</summary>
    private static async Task<string?> AnnounceAsync(IngestResult.Stored stored, UploadQuery query, DatasetServices services, Activity? activity)
    {
        await services.Registry.RegisterAsync(stored.Info);
        activity?.SetTag("dataset.id", stored.Info.Id);
        services.Logger.LogInformation("Stored dataset {DatasetId} ({Records} records, format {Format}, existed {Existed})",
            stored.Info.Id, stored.Info.Stats.Records, stored.Format, stored.Existed);
        if (query.Model is not { } preprocessModel) return null;
        return await services.Redis.GetDatabase().PublishAsync(StreamNames.PreprocessRequests, new PreprocessRequest
        {
            DatasetId = stored.Info.Id,
            Model = preprocessModel,
            MaxLength = query.MaxLength ?? 1024,
            OverLong = query.OverLong ?? "truncate",
            TrainOnInputs = query.TrainOnInputs ?? false,
        }.ToFields());
    }

    public static async Task<Ok<IReadOnlyList<DatasetInfo>>> ListAsync([AsParameters] DatasetServices services) =>
        TypedResults.Ok(await services.Registry.ListAsync());

    public static async Task<Results<Ok<DatasetInfo>, NotFound>> GetAsync(string id, [AsParameters] DatasetServices services) =>
        await services.Registry.GetAsync(id) is { } info ? TypedResults.Ok(info) : TypedResults.NotFound();

    public static async Task<Results<Ok<DatasetStats>, NotFound>> StatsAsync(string id, [AsParameters] DatasetServices services) =>
        await services.Registry.GetAsync(id) is { } info ? TypedResults.Ok(info.Stats) : TypedResults.NotFound();

    public static async Task<Results<Ok<PreviewResponse>, NotFound, ProblemHttpResult>> PreviewAsync(
        string id, [AsParameters] DatasetServices services, int? count, string? split, CancellationToken cancellationToken)
    {
        if (await services.Registry.GetAsync(id) is null || !services.Store.Exists(id)) return TypedResults.NotFound();
        var file = (split ?? "records") switch
        {
            "records" or "all" => DatasetFiles.Records,
            "train" => DatasetFiles.Train,
            "eval" => DatasetFiles.Eval,
            _ => null,
        };
        if (file is null) return Problem(400, "Unknown split", $"split must be records, train or eval, got '{split}'");
        var n = Math.Clamp(count ?? 5, 1, services.Limits.MaxPreview);
        var records = await services.Store.ReadRecordsAsync(id, file, n, cancellationToken);
        return TypedResults.Ok(new PreviewResponse(id, split ?? "records",
            records.Select((r, i) => new PreviewRecord(i, r.Messages, Render(r))).ToList()));
    }

    public static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(string id, [AsParameters] DatasetServices services)
    {
        if (!DatasetId.IsValid(id) || (await services.Registry.GetAsync(id) is null && !services.Store.Exists(id)))
            return TypedResults.NotFound();
        var jobs = await services.Registry.ActiveJobsUsingAsync(id);
        if (jobs.Count > 0)
            return Problem(409, "Dataset in use", $"unfinished job(s) use this dataset: {string.Join(", ", jobs)}",
                new Dictionary<string, object?> { ["jobs"] = jobs });
        await services.Registry.RemoveAsync(id);
        services.Store.Delete(id);
        services.Logger.LogInformation("Deleted dataset {DatasetId}", id);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Accepted<PreprocessResponse>, NotFound, ProblemHttpResult>> PreprocessAsync(
        string id, [AsParameters] DatasetServices services, string model, int? maxLength, bool? trainOnInputs, string? overLong, string? jobId)
    {
        if (await services.Registry.GetAsync(id) is null) return TypedResults.NotFound();
        if (ModelProblem(services.Root, model) is { } problem) return problem;
        if (overLong is not (null or "truncate" or "drop")) return Problem(400, "Invalid option", "overLong must be truncate or drop");
        var requestId = await services.Redis.GetDatabase().PublishAsync(StreamNames.PreprocessRequests, new PreprocessRequest
        {
            JobId = jobId,
            DatasetId = id,
            Model = model,
            MaxLength = maxLength ?? 1024,
            OverLong = overLong ?? "truncate",
            TrainOnInputs = trainOnInputs ?? false,
        }.ToFields());
        return TypedResults.Accepted($"/api/datasets/{id}", new PreprocessResponse(requestId, StreamNames.PreprocessRequests));
    }

    private static ProblemHttpResult? ModelProblem(DataRoot root, string model)
    {
        string folder;
        try { folder = root.Model(model); }
        catch (ArgumentException ex) { return Problem(400, "Invalid model name", ex.Message); }
        return Directory.Exists(folder) ? null : Problem(400, "Unknown model", $"no model '{model}' under the data root's models/ folder");
    }

    /// <summary>A neutral rendering for people (not a model's chat template: that is applied by the preprocess worker).</summary>
    internal static string Render(Conversation conversation) =>
        string.Join("\n\n", conversation.Messages.Select(m => $"### {char.ToUpperInvariant(m.Role[0])}{m.Role[1..]}:\n{m.Content}"));

    private static ProblemHttpResult Problem(int status, string title, string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: extensions);
}
