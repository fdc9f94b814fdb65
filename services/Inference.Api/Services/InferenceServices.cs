using Microsoft.Extensions.Options;

namespace Inference.Api.Services;

public static class InferenceServices
{
    /// <summary>The catalog (models under <c>FineTune:DataRoot</c>), the bounded model cache and the chat engine.</summary>
    public static IHostApplicationBuilder AddInferenceServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<InferenceOptions>().BindConfiguration("Inference");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<InferenceOptions>>().Value);
        builder.Services.AddSingleton(new ModelCatalog(DataRootOf(builder.Configuration)));
        builder.Services.AddSingleton(sp => new ModelCache(sp.GetRequiredService<InferenceOptions>().MaxLoadedModels, sp.GetRequiredService<ILogger<ModelCache>>()));
        builder.Services.AddSingleton<ChatEngine>();
        return builder;
    }

    private static string DataRootOf(IConfiguration configuration) =>
        configuration["FineTune:DataRoot"] is { Length: > 0 } root
            ? Path.GetFullPath(root)
            : throw new InvalidOperationException("FineTune:DataRoot (env FineTune__DataRoot) is not set: the inference service serves the models under the shared data folder.");
}
