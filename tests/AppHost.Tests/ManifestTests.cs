using System.Diagnostics;
using System.Text.Json.Nodes;
using NJsonSchema;

namespace FineTune.AppHost.Tests;

[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public sealed class ManifestTests
{
    private static string CommittedManifest => Path.Combine(Repo.Root, "aspire-manifest.json");

    [Fact]
    public async Task CommittedManifestIsWhatTheAppHostPublishesNow()
    {
        var output = Path.Combine(Repo.Root, $".aspire-manifest.{Guid.NewGuid():N}.json");
        try
        {
            var apphost = Path.Combine(AppContext.BaseDirectory, "AppHost.dll");
            var psi = new ProcessStartInfo("dotnet", [apphost, "--publisher", "manifest", "--output-path", output])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi)!;
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(process.ExitCode == 0, $"publisher failed: {await stderr}");

            var fresh = await File.ReadAllTextAsync(output);
            var committed = await File.ReadAllTextAsync(CommittedManifest);
            Assert.True(fresh == committed,
                "aspire-manifest.json is stale. Regenerate it: dotnet run --project AppHost -- --publisher manifest --output-path ../aspire-manifest.json");
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task CommittedManifestIsValidAgainstAspiresSchema()
    {
        var schema = await SchemaLoader.LoadAsync(Repo.SharedFile("reference", "aspire-manifest.schema.json"));
        var errors = schema.Validate(await File.ReadAllTextAsync(CommittedManifest));
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind} {e}")));
    }

    /// <summary>
    /// The SchemaStore copy is older than Aspire 13: it limits binding schemes to http/https/tcp/udp, while Aspire writes
    /// Redis's as "redis" (../shared/reference/aspire-real.md). With that one scheme read as tcp, the manifest is valid there too.
    /// </summary>
    [Fact]
    public async Task CommittedManifestIsValidAgainstTheSchemaStoreCopyButForRedissScheme()
    {
        var schema = await SchemaLoader.LoadAsync(Repo.SharedFile("reference", "aspire-manifest.schema.schemastore.json"));
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(CommittedManifest))!;
        Assert.NotEmpty(schema.Validate(manifest.ToJsonString()));
        var scheme = manifest["resources"]!["redis"]!["bindings"]!["tcp"]!["scheme"]!;
        Assert.Equal("redis", (string?)scheme);
        manifest["resources"]!["redis"]!["bindings"]!["tcp"]!["scheme"] = "tcp";
        var errors = schema.Validate(manifest.ToJsonString());
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"{e.Path}: {e.Kind} {e}")));
    }

    [Fact]
    public async Task SchemaCatchesAnInvalidBindingSoTheValidityTestCanFail()
    {
        var schema = await SchemaLoader.LoadAsync(Repo.SharedFile("reference", "aspire-manifest.schema.json"));
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(CommittedManifest))!;
        manifest["resources"]!["redis"]!["bindings"]!["tcp"]!.AsObject().Remove("transport");
        Assert.NotEmpty(schema.Validate(manifest.ToJsonString()));
    }

    [Fact]
    public async Task SecretsAppearOnlyAsParameterExpressions()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(CommittedManifest))!["resources"]!.AsObject();
        var password = manifest["redis-password"]!;
        Assert.Equal("parameter.v0", (string?)password["type"]);
        Assert.True((bool?)password["inputs"]!["value"]!["secret"]);
        Assert.Equal(22, (int?)password["inputs"]!["value"]!["default"]!["generate"]!["minLength"]);

        var redis = manifest["redis"]!;
        Assert.Equal("{redis-password.value}", (string?)redis["env"]!["REDIS_PASSWORD"]);
        Assert.StartsWith("{redis.bindings.tcp.host}:{redis.bindings.tcp.port},password={redis-password.value}", (string?)redis["connectionString"]);
        // the container reads the password from its environment: the shell variable, never the value; redis-server is PID 1, with the AOF
        Assert.Equal("exec redis-server --requirepass $REDIS_PASSWORD --save 60 1 --appendonly yes", (string?)redis["args"]![1]);
    }

    [Fact]
    public async Task ProjectsGetReferencesTheSharedDataMountAndRelativePaths()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(CommittedManifest))!["resources"]!;
        foreach (var (name, project) in new[] { ("dataset", "Dataset.Api"), ("preprocess", "Preprocess.Worker"), ("trainer", "Trainer.Worker"), ("export", "Export.Worker") })
        {
            var entry = manifest[name]!;
            Assert.Equal("project.v0", (string?)entry["type"]);
            Assert.Equal($"services/{project}/{project}.csproj", (string?)entry["path"]);
            Assert.Equal("{redis.connectionString}", (string?)entry["env"]!["ConnectionStrings__redis"]);
            Assert.Equal("/var/lib/finetune/data", (string?)entry["env"]!["FineTune__DataRoot"]);
            Assert.Equal($"{{{name}.bindings.http.targetPort}}", (string?)entry["env"]!["HTTP_PORTS"]);
            Assert.Null(entry["replicas"]); // the manifest has no replica field: the Kubernetes publisher reads WithReplicas
        }
        Assert.True((bool?)manifest["dataset"]!["bindings"]!["http"]!["external"]);
        Assert.Equal("{ollama.connectionString}", (string?)manifest["export"]!["env"]!["ConnectionStrings__ollama"]);
        Assert.Equal("container.v0", (string?)manifest["ollama"]!["type"]);
    }
}
