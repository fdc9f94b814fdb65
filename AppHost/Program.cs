// The FineTune.Aspire app model, as the architecture diagram reads: infrastructure first, then the services in pipeline order.
// `dotnet run --project AppHost` runs it (the Aspire dashboard's login URL is printed at start); `-- --publisher manifest
// --output-path ../aspire-manifest.json` writes Aspire's manifest; `-- --publisher kubernetes --output-path ../deploy/k8s`
// writes the kustomize folder (docs/deploy.md).

using FineTune.AppHost.Demo;
using FineTune.AppHost.Infrastructure;
using FineTune.AppHost.Publishing.Kubernetes;
using FineTune.Messaging;

var builder = DistributedApplication.CreateBuilder(AppHostArguments.Expand(args));
builder.AddKubernetesPublisher();
builder.LogInfrastructureChoices();
builder.AddConsoleLogArchive();

// Infrastructure: Redis (job store, streams, gradient exchange) and Ollama (where exported models are registered).
// Each runs as a container where a container runtime answers (and in the manifest), else as a local process.
var redis = builder.AddJobStoreRedis("redis");
var ollama = builder.AddOllama("ollama");
var data = builder.AddSharedData("data");

// Services: dataset (front door, Jobs API) → preprocess → trainer (×2, coordinated through Redis Streams) → export (→ Ollama)
var dataset = builder.AddProject<Projects.Dataset_Api>("dataset")
    .WithFrontDoorEndpoint()
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithSharedData(data);

var preprocess = builder.AddProject<Projects.Preprocess_Worker>("preprocess")
    .WithServiceEndpoint()
    .WithReference(redis).WaitFor(redis)
    .WithSharedData(data);

var trainer = builder.AddProject<Projects.Trainer_Worker>("trainer")
    .WithServiceEndpoint()
    .WithReplicas(2)
    .WithReference(redis).WaitFor(redis)
    .WithSharedData(data)
    .WithGenAiContentCapture()
    // Kubernetes only (run mode ignores these): one GPU per replica, 1–8 replicas on the lag of the trainers' group on
    // the training stream (KEDA), five minutes after SIGTERM to write a checkpoint.
    .WithGpu(1)
    .WithAutoscaling(minReplicas: 1, maxReplicas: 8, stream: StreamNames.TrainJobs, consumerGroup: StreamNames.TrainGroup)
    .WithTerminationGracePeriod(TimeSpan.FromMinutes(5))
    .WithToleration("nvidia.com/gpu")
    .WithComputeResources(cpuRequest: "2", memoryRequest: "8Gi", memoryLimit: "32Gi");

var export = builder.AddProject<Projects.Export_Worker>("export")
    .WithServiceEndpoint()
    .WithReference(redis).WaitFor(redis)
    .WithOllama(ollama)
    .WithSharedData(data);

// Trying the result: an OpenAI-compatible chat endpoint over every exported model (base, fine-tuned), and the Studio web
// app for jobs (list, live curves, members, before/after, upload, side-by-side chat); it talks to the front door's HTTP API
// and to the chat endpoint, never to Redis. Its login link (/login?t=…) is in its console log (docs/studio.md).
var inference = builder.AddProject<Projects.Inference_Api>("inference")
    .WithInferenceEndpoint()
    .WithGenAiContentCapture()
    .WithSharedData(data);

builder.AddProject<Projects.Studio>("studio")
    .WithServiceEndpoint()
    .WithUrlForEndpoint("http", url => url.DisplayText = "Studio")
    .WithReference(dataset).WaitFor(dataset)
    .WithReference(inference);

// The embedded default job (off with --no-demo): once the pipeline is healthy, on an empty job store, the AppHost submits
// seed-003's extraction task through the front door and prints the before/after table (docs/jobs.md). Also the
// dashboard's "Run the demo job" and "Cancel the newest unfinished job" commands on the front door.
dataset.WithDemoJob(preprocess, trainer, export);

builder.Build().Run();
