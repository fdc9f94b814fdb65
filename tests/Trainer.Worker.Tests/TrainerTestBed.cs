using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;
using FineTune.Models.Tiny;
using StackExchange.Redis;

namespace Trainer.Worker.Tests;

/// <summary>
/// Real Redis, a data root with the nano model and a small chat dataset, and helpers to submit jobs and watch their records.
/// Waiting is on Redis state (bounded polls), never on fixed sleeps.
/// </summary>
public sealed class TrainerTestBed : IAsyncLifetime
{
    private readonly TempDirectory _root = new("ft-trainer");
    private readonly List<TrainerReplica> _replicas = [];
    private ConnectionMultiplexer? _mux;

    public RedisServer Redis { get; } = new();
    public string DataRoot => _root.Path;
    public IDatabase Db => _mux!.GetDatabase();
    public JobStore Jobs => new(_mux!);

    public async Task InitializeAsync()
    {
        await Redis.StartAsync();
        _mux = await ConnectionMultiplexer.ConnectAsync(Redis.ConnectionString + ",abortConnect=false");
        TinyModel.Write(Path.Combine(DataRoot, "models", "nano"), seed: 7, TinyModelPreset.Nano);
        Directory.CreateDirectory(Path.Combine(DataRoot, "data"));
        var lines = Enumerable.Range(0, 16).Select(i =>
            $$"""{"messages":[{"role":"user","content":"What is {{i}} plus {{i}}?"},{"role":"assistant","content":"{{i + i}}"}]}""");
        await File.WriteAllLinesAsync(Path.Combine(DataRoot, "data", "sums.jsonl"), lines);
    }

    /// <summary>A deterministic CPU job on the nano model: checkpoints every 2 steps.</summary>
    public static string Spec(int maxSteps, string model = "models/nano", int accumulation = 1, int parallelism = 1) => $"""
        model: {model}
        data: data/sums.jsonl
        lora:
          r: 4
          alpha: 8
          dropout: 0
        sft:
          max_seq_len: 64
        training:
          micro_batch_size: 2
          gradient_accumulation_steps: {accumulation}
          parallelism: {parallelism}
          max_steps: {maxSteps}
          learning_rate: 0.001
          warmup_steps: 0
          save_steps: 2
          deterministic: true
          seed: 11
        """;

    public TrainerReplica StartReplica(string instanceId, TimeSpan? lease = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var replica = TrainerReplica.Start(instanceId, Redis.ConnectionString, DataRoot, lease ?? TimeSpan.FromSeconds(3), environment);
        _replicas.Add(replica);
        return replica;
    }

    /// <summary>
    /// Waits until the replicas named run (each has written its heartbeat, ft:replica:{id}). A K=2 job submitted before a
    /// slow-starting replica (TorchSharp's load on a busy machine) is up recruits past its timeout and runs with one member;
    /// tests of K=2 behaviour wait for this first. (The join group is created at 0-0, so an invitation written after this
    /// reaches a running replica; XINFO CONSUMERS is no signal: a blocked XREADGROUP on an empty stream adds no consumer.)
    /// </summary>
    public Task WaitUntilRunningAsync(params string[] instanceIds) =>
        Eventually.UntilAsync(async () =>
            {
                var running = new List<string>();
                foreach (var id in instanceIds)
                    if (await Db.KeyExistsAsync(StreamNames.Replica(id))) running.Add(id);
                return running;
            },
            running => running.Count == instanceIds.Length, TimeSpan.FromMinutes(2), $"{string.Join(" and ", instanceIds)} running",
            describe: ReplicasSaid);

    public async Task SubmitAsync(string jobId, string spec)
    {
        await Jobs.CreateAsync(jobId, spec);
        await Db.PublishAsync(StreamNames.TrainJobs, new TrainRequest(jobId).ToFields());
    }

    public async Task<string?> StatusAsync(string jobId) => await Db.HashGetAsync(StreamNames.Job(jobId), "status");

    public async Task<IReadOnlyDictionary<string, string>> WaitForStatusAsync(string jobId, Func<string?, bool> done, TimeSpan timeout)
    {
        await Eventually.UntilAsync(() => StatusAsync(jobId), done, timeout, $"job {jobId}'s status", TimeSpan.FromMilliseconds(100), ReplicasSaid);
        return (await Jobs.GetAsync(jobId))!;
    }

    public Task<IReadOnlyDictionary<string, string>> WaitForFinalAsync(string jobId, TimeSpan? timeout = null) =>
        WaitForStatusAsync(jobId, JobStatus.IsFinal, timeout ?? TimeSpan.FromMinutes(3));

    /// <summary>Waits until the job's events stream holds an event of <paramref name="kind"/>.</summary>
    public Task WaitForEventAsync(string jobId, string kind, TimeSpan timeout) =>
        Eventually.UntilAsync(() => EventsAsync(jobId), events => events.Any(e => e.Kind == kind), timeout, $"a '{kind}' event of job {jobId}",
            describe: ReplicasSaid);

    /// <summary>The tail of every replica's console, for timeout messages.</summary>
    public string ReplicasSaid() => "replicas said:\n" + string.Join("\n---\n", _replicas.Select(r => r.InstanceId + ":\n" + Tail(r.Output)));

    public async Task<IReadOnlyList<(string Kind, string Message)>> EventsAsync(string jobId) =>
        (await Db.StreamRangeAsync(StreamNames.JobEvents(jobId))).Select(e => ((string)e["kind"]!, (string)e["message"]!)).ToList();

    public async Task<IReadOnlyList<int>> TrainStepsAsync(string jobId) =>
        (await Db.StreamRangeAsync(StreamNames.JobMetrics(jobId))).Where(e => e["kind"] == "train").Select(e => (int)e["step"]).ToList();

    public byte[] AdapterBytes(string jobId) =>
        File.ReadAllBytes(Path.Combine(DataRoot, "jobs", jobId, "train", "adapter", "adapter_model.safetensors"));

    private static string Tail(string text) => text.Length <= 3000 ? text : text[^3000..];

    public Task DisposeAsync()
    {
        foreach (var r in _replicas) r.Dispose();
        _mux?.Dispose();
        Redis.Dispose();
        _root.Dispose();
        return Task.CompletedTask;
    }
}
