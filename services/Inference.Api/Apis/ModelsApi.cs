using Inference.Api.Model;
using Inference.Api.Services;

namespace Inference.Api.Apis;

/// <summary>OpenAI's <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: every model under the data root (see <see cref="ModelCatalog"/>).</summary>
public static class ModelsApi
{
    public const string OwnedBy = "finetune-aspire";

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (ModelCatalog catalog) =>
            Results.Json(new ModelList([.. catalog.List().Select(ToObject)]), OpenAiJson.Options)).WithName("ListModels");
        app.MapGet("/v1/models/{*id}", (string id, ModelCatalog catalog) =>
            catalog.Find(id) is { } entry ? Results.Json(ToObject(entry), OpenAiJson.Options) : throw OpenAiException.ModelNotFound(id)).WithName("GetModel");
        return app;
    }

    private static ModelObject ToObject(ModelEntry entry) => new(entry.Id, entry.Created.ToUnixTimeSeconds(), OwnedBy);
}
