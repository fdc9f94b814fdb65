using FineTune.Data;
using Microsoft.Extensions.Options;

namespace Inference.Api.Services;

public static class InferenceServices
{
    /// <summary>The catalog (models under <c>FineTune:DataRoot</c>), the bounded model cache and the chat engine.</summary>
    public static IHostApplicationBuilder AddInferenceServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration("Inference");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<InferenceOptions>>().Value);
        builder.Services.AddSingleton(new ModelCatalog(DataRoot.FromConfigured(builder.Configuration[DataRoot.ConfigurationKey]).Path));
        builder.Services.AddSingleton(sp => new ModelCache(sp.GetRequiredService<InferenceOptions>().MaxLoadedModels, sp.GetRequiredService<ILogger<ModelCache>>()));
        builder.Services.AddSingleton<ChatEngine>();
        return builder;
    }
}
