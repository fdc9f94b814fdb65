using FineTune.Data;
using FineTune.Data.Storage;
using Preprocess.Worker.Services;

namespace Microsoft.Extensions.Hosting;

internal static class ApplicationServiceExtensions
{
    /// <summary>Redis, the data root, the generated-model writer, the preprocess pipeline and the stream worker that feeds it.</summary>
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddJobStoreRedis("redis");
        var dataRoot = builder.Configuration[DataRoot.ConfigurationKey]
            ?? throw new InvalidOperationException($"Configuration '{DataRoot.ConfigurationKey}' (env FineTune__DataRoot) is missing: the shared data folder, an absolute path.");
        builder.Services.AddSingleton(new DataRoot(dataRoot));
        builder.Services.AddSingleton<DatasetStore>();
        builder.Services.AddSingleton<EncoderCache>();
        builder.Services.AddSingleton<GeneratedModelWriter>();
        builder.Services.AddSingleton<PreprocessPipeline>();
        builder.Services.AddOptions<PreprocessWorkerOptions>().BindConfiguration(PreprocessWorkerOptions.Section);
        builder.Services.AddHostedService<PreprocessWorker>();
    }
}
