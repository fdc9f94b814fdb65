// The FineTune.Aspire app model: infrastructure first, then the services in pipeline order.
// `dotnet run --project AppHost` runs it locally; `-- --publisher manifest --output-path ../aspire-manifest.json` writes
// the Aspire manifest. The engine behind these calls is ours (Hosting/), following Aspire's conventions.

using FineTune.AppHost.Dashboard;
using FineTune.AppHost.Demo;
using FineTune.AppHost.Hosting;
using FineTune.AppHost.Publishing.Kubernetes;

var builder = DistributedApplication.CreateBuilder(args);
builder.AddKubernetesPublisher(); // -- --publisher kubernetes --output-path ../deploy/k8s (docs/deploy.md)

// The embedded dashboard (OTLP receiver, resources, logs, traces, metrics, jobs): http://localhost:18888, token printed at start
builder.AddEmbeddedDashboard();

// Infrastructure
var redis = builder.AddRedis("redis")
    .WithDataVolume()
    .WithPersistence();

var ollama = builder.AddOllama("ollama")
    .WithDataVolume();

var data = builder.AddSharedVolume("data");

// Services: dataset → preprocess → trainer (×2, coordinated through Redis Streams) → export (→ Ollama)
var dataset = builder.AddProject("dataset", "../services/Dataset.Api/Dataset.Api.csproj")
    .WithExternalHttpEndpoints()
    .WithReference(redis).WaitFor(redis)
    .WithSharedVolume(data);

var preprocess = builder.AddProject("preprocess", "../services/Preprocess.Worker/Preprocess.Worker.csproj")
    .WithReference(redis).WaitFor(redis)
    .WithSharedVolume(data);

var trainer = builder.AddProject("trainer", "../services/Trainer.Worker/Trainer.Worker.csproj")
    .WithReplicas(2)
    .WithReference(redis).WaitFor(redis)
    .WithSharedVolume(data)
    // Kubernetes only (the local runner ignores these): one GPU per replica, 1–8 replicas on the lag of the
    // trainers group on ft:train:jobs (KEDA), five minutes after SIGTERM to write a checkpoint.
    .WithGpu(1)
    .WithAutoscaling(minReplicas: 1, maxReplicas: 8, stream: "ft:train:jobs", consumerGroup: "trainers")
    .WithTerminationGracePeriod(TimeSpan.FromMinutes(5))
    .WithToleration("nvidia.com/gpu")
    .WithComputeResources(cpuRequest: "2", memoryRequest: "8Gi", memoryLimit: "32Gi");

var export = builder.AddProject("export", "../services/Export.Worker/Export.Worker.csproj")
    .WithReference(redis).WaitFor(redis)
    .WithReference(ollama).WaitFor(ollama)
    .WithSharedVolume(data);

// The embedded default job (off with --no-demo or FineTune:Demo:Enabled=false): once all is healthy, on an empty job store,
// the AppHost submits seed-003's extraction task through the front door and prints the before/after table (docs/jobs.md)
builder.AddDemoJob(dataset);

builder.Build().Run();
