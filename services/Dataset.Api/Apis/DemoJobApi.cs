using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dataset.Api.Model;
using FineTune.Contracts.Models;
using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Demo;
using FineTune.Messaging.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Hosting;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Dataset.Api.Apis;

/// <summary>
/// <c>POST /api/jobs/demo</c>: the embedded default job (seed 003's HTML → JSON extraction on the tiny model) through the front
/// door. The task, the base model and the recipe are <see cref="DemoJob"/>'s: its generated train split and separately seeded
/// held-out split become two datasets, its model (<see cref="DemoJob.Model"/>) is named for the preprocess worker to write
/// once to <c>models/&lt;preset&gt;-llama-products</c> (this service has no TorchSharp), and its LoRA, SFT,
/// training and eval sections are the job's options, with the request's sections merged over them key by key (a smaller
/// configuration for CI: <c>{"preset":"nano","training":{"max_steps":40},"eval":{"max_examples":16}}</c>). Then the job runs
/// like any other (preprocess → train → export, <c>export</c> on by default).
/// </summary>
public static class DemoJobApi
{
    private static readonly ActivitySource Source = new(ApplicationServiceExtensions.TelemetryName);
    private static readonly SemaphoreSlim PrepareGate = new(1, 1);
    private static readonly HashSet<string> Keys = ["preset", "model_seed", "lora", "sft", "training", "eval", "export"];
    private static readonly string[] Sections = ["lora", "sft", "training", "eval"];

    private static readonly ISerializer Recipe = new SerializerBuilder()
        .WithNamingConvention(UnderscoredNamingConvention.Instance).JsonCompatible().Build();

    public static IEndpointRouteBuilder MapDemoJobApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/demo", CreateAsync).WithTags("Jobs").WithName("CreateDemoJob")
            .WithSummary("Create the embedded default job: generated seed-003 extraction data, the demo tiny model and DemoJob's recipe; optional {preset, model_seed, lora, sft, training, eval, export} overrides")
            .DisableAntiforgery();
        return app;
    }

    public static async Task<Results<Created<CreateJobResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        using var activity = Source.StartActivity("demo job create");
        JsonObject body;
        try
        {
            body = request.ContentLength is 0 || request.ContentType is null
                ? []
                : await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken) as JsonObject ?? [];
        }
        catch (JsonException ex)
        {
            return TypedResults.Problem(detail: $"the body is not valid JSON: {ex.Message}", statusCode: 400, title: "Invalid JSON");
        }

        var errors = new Dictionary<string, string[]>();
        foreach (var (key, _) in body)
            if (!Keys.Contains(key)) errors[key] = [$"unknown field (allowed: {string.Join(", ", Keys)})"];
        var preset = body["preset"]?.GetValueKind() == JsonValueKind.String ? body["preset"]!.GetValue<string>() : "tiny";
        var modelSeed = body["model_seed"]?.GetValueKind() == JsonValueKind.Number ? body["model_seed"]!.GetValue<int>() : 0;
        GeneratedModel? model = null;
        try { model = DemoJob.Model(preset, modelSeed); }
        catch (ArgumentException ex) { errors["preset"] = [ex.Message]; }
        foreach (var section in Sections)
            if (body[section] is { } node && node.GetValueKind() != JsonValueKind.Object) errors[section] = ["must be an object"];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The demo job was rejected");

        var (train, eval, recipe) = await PrepareAsync(services, model!, cancellationToken);

        // DemoJob's recipe, with the request's sections merged over it.
        var options = new JsonObject { ["model"] = model!.Folder, ["export"] = body["export"]?.DeepClone() ?? true };
        foreach (var section in Sections)
        {
            var merged = recipe[section]!.AsObject();
            if (body[section] is JsonObject overrides)
                foreach (var (key, value) in overrides) merged[key] = value?.DeepClone();
            options[section] = merged.DeepClone();
        }
        var specErrors = new Dictionary<string, List<string>>();
        var result = JobSpecBuilder.Build(options, train, train.Id, services.Root, specErrors, evalDataset: eval, generated: model);
        if (result is null)
            return TypedResults.ValidationProblem(specErrors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "The demo job was rejected",
                detail: string.Join("; ", specErrors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));

        var id = await JobSubmitter.SubmitAsync(services, result, train, eval, [new("demo", preset)]);
        activity?.SetTag("ft.job.id", id);
        return TypedResults.Created($"/api/jobs/{id}", new CreateJobResponse(id, JobStatus.Preprocessing, train.Id, result.Model, $"/api/jobs/{id}/events"));
    }

    /// <summary>
    /// Imports DemoJob's train and held-out files as two datasets (content-addressed, so repeated demos reuse them). Returns
    /// the datasets and DemoJob's recipe as JSON sections. The model (<paramref name="model"/>) is the preprocess worker's to write.
    /// </summary>
    private static async Task<(DatasetInfo Train, DatasetInfo Eval, JsonObject Recipe)> PrepareAsync(
        JobServices services, GeneratedModel model, CancellationToken cancellationToken)
    {
        var root = services.Root;
        await PrepareGate.WaitAsync(cancellationToken);
        try
        {
            var work = Path.Combine(root.Path, "demo", $".tmp-{Guid.NewGuid():N}");
            try
            {
                var (trainFile, evalFile) = DemoJob.WriteData(work);
                var job = DemoJob.Create("models/" + model.Folder, trainFile, evalFile, Path.Combine(work, "run"));
                var train = await ImportAsync(services, trainFile, "seed-003 demo: train", cancellationToken);
                var eval = await ImportAsync(services, evalFile, "seed-003 demo: held-out", cancellationToken);
                var recipe = new JsonObject
                {
                    ["lora"] = JsonNode.Parse(Recipe.Serialize(job.Lora)),
                    ["sft"] = JsonNode.Parse(Recipe.Serialize(job.Sft)),
                    ["training"] = JsonNode.Parse(Recipe.Serialize(job.Training)),
                    ["eval"] = JsonNode.Parse(Recipe.Serialize(job.Eval)),
                };
                if (recipe["sft"]?["system_prompt"] is null) recipe["sft"]!.AsObject().Remove("system_prompt");
                return (train, eval, recipe);
            }
            finally
            {
                if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            }
        }
        finally
        {
            PrepareGate.Release();
        }
    }

    private static async Task<DatasetInfo> ImportAsync(JobServices services, string file, string name, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(file);
        var result = await services.Store.IngestAsync(stream, new IngestOptions { Name = name, EvalRatio = 0, MaxRecordBytes = services.Limits.MaxRecordBytes }, cancellationToken);
        if (result is not IngestResult.Stored stored)
            throw new InvalidOperationException($"{file}: the generated demo data was rejected: {string.Join("; ", ((IngestResult.Rejected)result).Errors)}");
        await services.Registry.RegisterAsync(stored.Info);
        return await services.Registry.GetAsync(stored.Info.Id) ?? stored.Info;
    }
}
