using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Messaging.Jobs;

namespace Dataset.Api.Model;

/// <summary>
/// Starts a validated job on its way (docs/streams.md, "How a job moves through the streams"): writes the record
/// (<c>ft:job:{id}</c>, <c>ft:jobs</c>, the datasets' refs), moves it to <c>preprocessing</c> and asks the preprocess worker
/// for the dataset's shards with the job's id. <see cref="Services.JobRouter"/> publishes the train request once they are ready.
/// </summary>
public static class JobSubmitter
{
    /// <summary>Tokens per record in the job's shards: no cut (the trainer applies the job's own max_seq_len, counting truncations),
    /// so one shard set serves every max_seq_len and a record of the shards is exactly the in-process encoding.</summary>
    public const int UncutLength = 1 << 20;

    public static async Task<string> SubmitAsync(JobServices services, JobSpecBuilder.Result result, DatasetInfo dataset,
        DatasetInfo? evalDataset = null, IEnumerable<KeyValuePair<string, string>>? extraFields = null)
    {
        var id = JobId.New();
        var fields = new List<KeyValuePair<string, string>> { new("dataset", dataset.Id), new("model", result.Model) };
        if (result.Export is { } export) fields.Add(new("export", export));
        fields.AddRange(extraFields ?? []);
        await services.Jobs.CreateAsync(id, result.Spec, fields);
        await services.Registry.AddReferenceAsync(dataset.Id, id);
        if (evalDataset is not null) await services.Registry.AddReferenceAsync(evalDataset.Id, id);

        var job = result.Job;
        var request = new PreprocessRequest
        {
            JobId = id,
            DatasetId = dataset.Id,
            Model = result.ModelFolder,
            MaxLength = UncutLength,
            OverLong = "truncate",
            TrainOnInputs = job.Sft.TrainOnInputs,
            Records = job.EvalSplit > 0 && job.EvalData is null,
            SystemPrompt = job.Sft.SystemPrompt,
            GenerateModel = result.Generate?.ToField(), // "tiny" and the demo's model: the preprocess worker writes them (no TorchSharp here)
        };
        await services.Jobs.SetStatusAsync(id, JobStatus.Preprocessing);
        await services.Redis.GetDatabase().PublishAsync(StreamNames.PreprocessRequests, request.ToFields());
        await services.Jobs.AddEventAsync(id, "queued", $"queued for preprocessing: dataset {dataset.Id}, model {result.Model}");
        services.Logger.LogInformation("Created job {JobId} on dataset {DatasetId} with model {Model}", id, dataset.Id, result.Model);
        return id;
    }
}
