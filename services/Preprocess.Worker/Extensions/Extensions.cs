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
        builder.Services.AddSingleton(DataRoot.FromConfigured(builder.Configuration[DataRoot.ConfigurationKey]));
        builder.Services.AddSingleton<DatasetStore>();
        builder.Services.AddSingleton<EncoderCache>();
        builder.Services.AddSingleton<GeneratedModelWriter>();
        builder.Services.AddSingleton<PreprocessPipeline>();
        builder.Services.AddOptions<PreprocessWorkerOptions>().BindConfiguration(PreprocessWorkerOptions.Section);
        builder.Services.AddHostedService<PreprocessWorker>();
    }
}
