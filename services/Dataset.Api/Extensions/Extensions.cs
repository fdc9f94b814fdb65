using Dataset.Api.Model;
using FineTune.Data;
using FineTune.Data.Storage;
using FineTune.Messaging.Datasets;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    public const string TelemetryName = "FineTune.Dataset";

    /// <summary>Redis, the data root, dataset storage and registry, the job router, options, OpenAPI and problem details.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddJobStoreRedis("redis");

        builder.Services.AddOptions<DatasetApiOptions>().BindConfiguration(DatasetApiOptions.Section)
            .Validate(o => o.MaxUploadBytes > 0 && o.MaxRecordBytes > 0 && o.MaxRecordBytes <= int.MaxValue / 2,
                "DatasetApi:MaxUploadBytes and DatasetApi:MaxRecordBytes must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton(DataRoot.FromConfigured(builder.Configuration[DataRoot.ConfigurationKey]));
        builder.Services.AddSingleton<DatasetStore>();
        builder.Services.AddSingleton<DatasetRegistry>();
        builder.Services.AddSingleton<FineTune.Messaging.Jobs.JobStore>();
        builder.Services.AddHostedService<Dataset.Api.Services.JobRouter>(); // ft:preprocess:ready → a job's train request

        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
    }
}
