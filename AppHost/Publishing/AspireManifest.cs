// Aspire's own manifest of the app model, in memory: the Kubernetes publisher reads every resource's image, args, env,
// bindings, volumes and connection strings from it, so the two publishers agree by construction. Aspire 13.6 makes the
// context public but its WriteModel internal (its manifest publisher is a pipeline step now): this calls it by reflection
// and fails with a clear message if a later Aspire renames it (AppHost.Tests' publisher tests would show that).

using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using Aspire.Hosting.Publishing;

namespace FineTune.AppHost.Publishing;

public static class AspireManifest
{
    public static async Task<JsonDocument> WriteAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext,
        string outputFolder, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var context = new ManifestPublishingContext(executionContext, Path.Combine(outputFolder, "aspire-manifest.json"), writer, cancellationToken);
            var writeModel = typeof(ManifestPublishingContext).GetMethod("WriteModel", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public,
                    [typeof(DistributedApplicationModel), typeof(CancellationToken)])
                ?? throw new InvalidOperationException("Aspire's ManifestPublishingContext.WriteModel(model, token) was not found: this Aspire version writes manifests differently.");
            await (Task)writeModel.Invoke(context, [model, cancellationToken])!;
        }
        return JsonDocument.Parse(stream.ToArray());
    }
}
