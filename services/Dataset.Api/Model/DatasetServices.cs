using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging.Datasets;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dataset.Api.Model;

/// <summary>What the handlers need, bundled ([AsParameters]).</summary>
public sealed class DatasetServices(DatasetStore store, DatasetRegistry registry, DataRoot root, IConnectionMultiplexer redis,
    IOptions<DatasetApiOptions> options, ILogger<DatasetServices> logger)
{
    public DatasetStore Store { get; } = store;
    public DatasetRegistry Registry { get; } = registry;
    public DataRoot Root { get; } = root;
    public IConnectionMultiplexer Redis { get; } = redis;
    public IOptions<DatasetApiOptions> Options { get; } = options;
    public DatasetApiOptions Limits => Options.Value;
    public ILogger<DatasetServices> Logger { get; } = logger;
}
