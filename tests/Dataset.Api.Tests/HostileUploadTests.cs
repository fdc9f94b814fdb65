using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FineTune.Data.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Dataset.Api.Tests;

/// <summary>
/// Hostile uploads (issue 13): a 4xx naming the fault, never a 5xx; nothing stored on rejection; bounded memory; and
/// outside Development no response carries exception details.
/// </summary>
// Runs alone: the fuzz test's memory bound reads the process-wide allocation counter.
[Collection(AllocationSensitive.Name)]
public sealed class HostileUploadTests(RedisServer redis, ITestOutputHelper output) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly DatasetApiHost _host = new(redis, "ft-hostile");
    private TempDirectory Root => _host.Root;
    private IDatabase Db => _host.Db;

    /// <summary>A valid JSONL file whose line 2 holds the bytes C3 28 FF FE inside a string.</summary>
    public static readonly byte[] InvalidUtf8OnLine2 =
    [
        .. "{\"input\": \"q1\", \"output\": \"a1\"}\n{\"input\": \"q"u8, 0xC3, 0x28, 0xFF, 0xFE, .. "\", \"output\": \"a2\"}\n"u8,
    ];

    public Task InitializeAsync() => _host.InitializeAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private WebApplicationFactory<Program> Factory(string environment = "Development") => _host.Start(environment);

    private static HttpClient RawClient(WebApplicationFactory<Program> factory) => DatasetApiHost.RawClient(factory);

    /// <summary>What an upload could leave behind: files under the data root and Redis keys (the ready stream is the router's own).</summary>
    private (string[] Files, string[] Keys) Traces() =>
        (Directory.Exists(Root.Path) ? [.. Directory.GetFiles(Root.Path, "*", SearchOption.AllDirectories).Order()] : [],
         [.. _host.Multiplexer.GetServers().Single().Keys(pattern: "*").Select(k => (string)k!).Where(k => k != FineTune.Messaging.StreamNames.PreprocessReady).Order()]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InvalidUtf8OnLine2IsA400NamingLine2AndUtf8(bool multipart)
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        HttpContent content = new ByteArrayContent(InvalidUtf8OnLine2);
        if (multipart) content = new MultipartFormDataContent { { content, "file", "bad.jsonl" } };

        var response = await client.PostAsync("/api/datasets", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("line 2", detail);
        Assert.Contains("UTF-8", detail);
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("line").GetInt64());
        Assert.Contains("C3 28 FF FE", error.GetProperty("message").GetString());
        var (files, keys) = Traces();
        Assert.Empty(files);
        Assert.Empty(keys);
    }

    [Fact]
    public async Task OutsideDevelopmentAFailureAnswersWithoutExceptionDetails()
    {
        await using var factory = Factory("Production");
        using var client = factory.CreateClient();
        var upload = await client.PostAsync("/api/datasets?evalRatio=0", new ByteArrayContent("{\"input\": \"q1\", \"output\": \"a1\"}\n{\"input\": \"q2\", \"output\": \"a2\"}\n"u8.ToArray()));
        var id = (await upload.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dataset").GetProperty("id").GetString()!;
        // the stored file damaged on the volume (not an upload: the service's own data), so reading it fails inside the service
        await File.WriteAllBytesAsync(Path.Combine(Root.Path, "datasets", id, DatasetFiles.Records), InvalidUtf8OnLine2);

        var response = await client.GetAsync($"/api/datasets/{id}/preview");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        foreach (var leak in new[] { "Exception", " at ", "UTF-8", DatasetFiles.Records, "stack", ".cs:line" })
            Assert.DoesNotContain(leak, body);
    }

    [Fact]
    public async Task MutatedDatasetsNeverGetA5xxAndRejectionsStoreNothing()
    {
        var corpus = new[] { "seed000_input_output.json", "seed001_instruction.jsonl", "seed001_zh_blocks.txt", "seed002_chat.json", "seed004_blocks.txt" }
            .Select(f => File.ReadAllBytes(FixtureFile.Path(f))).ToArray();
        await using var factory = Factory();
        using var client = RawClient(factory);
        await client.GetAsync("/api/datasets");   // warm up: JIT and first-request allocations are not the uploads'
        var outcomes = new Dictionary<string, int>();
        long maxAllocated = 0;
        for (var seed = 0; seed < 90; seed++)
        {
            var (kind, bytes) = DatasetMutator.Mutate(corpus[seed % corpus.Length], seed);
            var before = Traces();
            GC.Collect();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var response = await client.PostAsync("/api/datasets?name=fuzz", new ByteArrayContent(bytes));
            var body = await response.Content.ReadAsStringAsync();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            maxAllocated = Math.Max(maxAllocated, allocated);

            var status = (int)response.StatusCode;
            var what = $"seed {seed} ({kind}, {bytes.Length} bytes): {status} {body[..Math.Min(300, body.Length)]}";
            Assert.True(status < 500, what);
            Assert.True(status is 200 or 201 or 400 or 413, what);
            if (status >= 400)
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                var after = Traces();
                Assert.True(before.Files.SequenceEqual(after.Files), $"{what}: files {string.Join(", ", after.Files.Except(before.Files))}");
                Assert.True(before.Keys.SequenceEqual(after.Keys), $"{what}: keys {string.Join(", ", after.Keys.Except(before.Keys))}");
            }
            var key = $"{kind} → {status}";
            outcomes[key] = outcomes.GetValueOrDefault(key) + 1;
            // Bound (largest measured 17.1 MiB, a 9–19 MiB line): the 8 MiB record limit (the line buffer doubles up to it, ~16 MiB
            // allocated) plus transport buffers, as in DatasetApiTests; a buffered 19 MiB upload would exceed it.
            Assert.True(allocated < 28L * 1024 * 1024, $"{what}: allocated {allocated / (1024 * 1024)} MiB");
        }
        foreach (var (key, count) in outcomes.OrderBy(o => o.Key)) output.WriteLine($"{count,3} × {key}");
        output.WriteLine($"largest allocation for one upload: {maxAllocated / 1024.0 / 1024.0:F1} MiB");
        Assert.True(outcomes.Keys.Count(k => k.EndsWith("400", StringComparison.Ordinal)) >= DatasetMutator.Kinds - 1, "most kinds of mutation were rejected");
    }
}
