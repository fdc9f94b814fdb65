using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging.Datasets;
using FineTune.Messaging.Jobs;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dataset.Api.Model;

/// <summary>What the job handlers need, bundled ([AsParameters]).</summary>
public sealed class JobServices(JobStore jobs, DatasetStore store, DatasetRegistry registry, DataRoot root, IConnectionMultiplexer redis,
    IOptions<DatasetApiOptions> options, ILogger<JobServices> logger)
{
    public JobStore Jobs { get; } = jobs;
    public DatasetStore Store { get; } = store;
    public DatasetRegistry Registry { get; } = registry;
    public DataRoot Root { get; } = root;
    public IConnectionMultiplexer Redis { get; } = redis;
    public IOptions<DatasetApiOptions> Options { get; } = options;
    public DatasetApiOptions Limits => Options.Value;
    public ILogger<JobServices> Logger { get; } = logger;

    /// <summary><c>&lt;DataRoot&gt;/jobs/{id}</c> for a valid job id.</summary>
    public string JobFolder(string id) => Path.Combine(Root.Path, "jobs", JobId.Require(id));
}
