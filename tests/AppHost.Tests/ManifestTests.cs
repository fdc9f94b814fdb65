using System.Diagnostics;
using System.Text.Json.Nodes;
using FineTune.AppHost.Hosting;
using FineTune.AppHost.Publishing;
using NJsonSchema;

namespace FineTune.AppHost.Tests;

public sealed class ManifestTests
{
    private static string CommittedManifest => Path.Combine(Repo.Root, "aspire-manifest.json");

    [Fact]
    public async Task CommittedManifestIsWhatTheAppHostPublishesNow()
    {
        var output = Path.Combine(Repo.Root, $".aspire-manifest.{Guid.NewGuid():N}.tmp");
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

    [Theory]
    [InlineData("aspire-manifest.schema.json")]
    [InlineData("aspire-manifest.schema.schemastore.json")]
    public async Task CommittedManifestIsValidAgainstThePublishedSchema(string schemaFile)
    {
        var schema = await SchemaLoader.LoadAsync(Repo.SharedFile("reference", schemaFile));
        var errors = schema.Validate(await File.ReadAllTextAsync(CommittedManifest));
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
        Assert.Equal("{redis.bindings.tcp.host}:{redis.bindings.tcp.port},password={redis-password.value}", (string?)redis["connectionString"]);
        // the container reads the password from its environment: the shell variable, never the value
        Assert.Equal("exec redis-server --requirepass $REDIS_PASSWORD --appendonly yes", (string?)redis["args"]![1]);
    }

    [Fact]
    public void ProjectsGetAspirePublishEnvironmentReferencesAndRelativePaths()
    {
        using var dir = new TempDirectory("ft-manifest");
        var builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions { AppHostDirectory = TestAppModel.TestAppsDirectory });
        var redis = builder.AddRedis("cache");
        var data = builder.AddSharedVolume("data");
        var api = builder.AddProject("api", TestAppModel.EchoProject).WithReference(redis).WithSharedVolume(data).WithReplicas(3);
        builder.AddProject("web", TestAppModel.EchoProject).WithReference(api).WithExternalHttpEndpoints()
            .WithEnvironment("CACHE_PASSWORD", ReferenceExpression.Create($"{redis.Resource.Password}"));
        var model = new DistributedApplicationModel(builder.Resources, builder.AppHostDirectory, dir.Path);

        var manifest = JsonNode.Parse(ManifestPublisher.Write(model, Repo.Root))!["resources"]!;

        var web = manifest["web"]!;
        Assert.Equal("project.v0", (string?)web["type"]);
        Assert.Equal("tests/AppHost.Tests/TestApps/EchoApp/EchoApp.csproj", (string?)web["path"]);
        Assert.Equal("{api.bindings.http.url}", (string?)web["env"]!["services__api__http__0"]);
        Assert.Equal("{web.bindings.http.targetPort}", (string?)web["env"]!["HTTP_PORTS"]);
        Assert.Equal("{cache-password.value}", (string?)web["env"]!["CACHE_PASSWORD"]);
        Assert.True((bool?)web["bindings"]!["http"]!["external"]);
        var api1 = manifest["api"]!;
        Assert.Equal("{cache.connectionString}", (string?)api1["env"]!["ConnectionStrings__cache"]);
        Assert.Equal("/var/lib/finetune/data", (string?)api1["env"]!["FineTune__DataRoot"]);
        Assert.Null(api1["replicas"]); // the manifest has no replica field (microsoft/aspire#2629)
        Assert.Null(manifest["data"]);
    }
}
