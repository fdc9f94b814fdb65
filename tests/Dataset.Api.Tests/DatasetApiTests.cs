using Xunit.Abstractions;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FineTune.Data.Storage;
using FineTune.Messaging;
using FineTune.Messaging.Datasets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using StackExchange.Redis;

namespace Dataset.Api.Tests;

/// <summary>The dataset service over real HTTP (Kestrel) with a real redis-server and a real data folder.</summary>
// Runs alone: the upload memory-bound test reads the process-wide allocation counter (CI once counted 51 MiB from neighbours).
[Collection(AllocationSensitive.Name)]
public sealed class DatasetApiTests : IClassFixture<RedisServer>, IAsyncLifetime
{
    private readonly DatasetApiHost _host;

    private readonly ITestOutputHelper _output;

    public DatasetApiTests(RedisServer redis, ITestOutputHelper output)
    {
        _host = new DatasetApiHost(redis, "ft-dataapi");
        _output = output;
    }

    private IDatabase Db => _host.Db;
    private TempDirectory Root => _host.Root;

    public Task InitializeAsync() => _host.InitializeAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    /// <summary>The service on a real Kestrel listener (loopback, free port); CreateClient talks to it over TCP.</summary>
    private WebApplicationFactory<Program> Factory(long? maxUploadBytes = null) =>
        maxUploadBytes is { } max ? _host.Start(settings: ("DatasetApi:MaxUploadBytes", max.ToString())) : _host.Start();

    private static HttpClient RawClient(WebApplicationFactory<Program> factory) => DatasetApiHost.RawClient(factory);

    private static StringContent Body(string text) => new(text, Encoding.UTF8, "application/octet-stream");

    private string[] FilesOnDisk() => Directory.Exists(Root.Path) ? Directory.GetFiles(Root.Path, "*", SearchOption.AllDirectories) : [];

    [Theory]
    [InlineData("seed000_input_output.json", "json/input-output", 2)]
    [InlineData("seed001_instruction.jsonl", "jsonl/instruction", 2)]
    [InlineData("seed001_zh_blocks.txt", "text", 2)]
    [InlineData("seed002_chat.json", "json/chat", 1)]
    [InlineData("seed003_extraction.json", "json/input-output", 2)]
    [InlineData("seed004_blocks.txt", "text", 2)]
    public async Task SeedFileUploadedRawIsStoredListedAndPreviewed(string fixture, string format, int records)
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/api/datasets?name=seed&evalRatio=0", new ByteArrayContent(await File.ReadAllBytesAsync(FixtureFile.Path(fixture))));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = upload.GetProperty("dataset").GetProperty("id").GetString()!;
        Assert.Equal(format, upload.GetProperty("dataset").GetProperty("format").GetString());
        Assert.Equal($"/api/datasets/{id}", response.Headers.Location?.ToString());

        var info = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{id}");
        Assert.Equal(records, info.GetProperty("stats").GetProperty("records").GetInt32());
        var list = await client.GetFromJsonAsync<JsonElement>("/api/datasets");
        Assert.Equal(id, Assert.Single(list.EnumerateArray()).GetProperty("id").GetString());
        var stats = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{id}/stats");
        Assert.Equal(records * 2, stats.GetProperty("turns").GetInt32());
        var preview = await client.GetFromJsonAsync<JsonElement>($"/api/datasets/{id}/preview?count=1");
        var first = Assert.Single(preview.GetProperty("records").EnumerateArray());
        Assert.StartsWith("### User:\n", first.GetProperty("rendered").GetString());
        Assert.Equal(records, File.ReadLines(Path.Combine(Root.Path, "datasets", id, DatasetFiles.Records)).Count());
    }

    [Fact]
    public async Task MultipartUploadTakesTheFileNameAsItsLabel()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(FixtureFile.Path("seed001_instruction.jsonl")));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", "train.jsonl");
        var response = await client.PostAsync("/api/datasets", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("train.jsonl", upload.GetProperty("dataset").GetProperty("name").GetString());
    }

    public static TheoryData<string, long, string?> RejectedUploads => new()
    {
        { "{\"instruction\": \"q\", \"output\": \"an answer\"}\n{\"instruction\": \"q2\", \"output\": \n", 2, null },
        { "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"robot\", \"content\": \"hello\"}]}\n", 1, "messages[1].role" },
        { "[\n {\"input\": \"a\", \"output\": \"bbb\"},\n {\"input\": \"b\"}\n]", 3, "output" },
        { "### Instruction:\nq1\n### Response:\n\n", 1, "response" },
        { "q1,answer one\nq2,answer two,extra\n", 2, null },
    };

    [Theory]
    [MemberData(nameof(RejectedUploads))]
    public async Task RejectedUploadIsAProblemWithLineNumbersAndLeavesNoTrace(string text, long line, string? field)
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/api/datasets?name=bad", Body(text));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        var error = problem.GetProperty("errors").EnumerateArray().First();
        Assert.Equal(line, error.GetProperty("line").GetInt64());
        Assert.Equal(field, error.GetProperty("field").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        // No key but the ready stream, whose 'jobs' group the front door's JobRouter creates when the service starts.
        var keys = _host.Multiplexer.GetServers().Single().Keys(pattern: "*").Select(k => (string)k!).ToList();
        Assert.DoesNotContain(keys, k => k != FineTune.Messaging.StreamNames.PreprocessReady);
        Assert.Empty(FilesOnDisk());
    }

    [Fact]
    public async Task TwentyErrorsAreListedOfMany()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var text = string.Concat(Enumerable.Range(1, 45).Select(i => $"{{\"instruction\": \"q{i}\"}}\n"));
        var problem = await (await client.PostAsync("/api/datasets", Body(text))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(45, problem.GetProperty("errorCount").GetInt32());
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("line").GetInt64()));
    }

    [Fact]
    public async Task NameIsALabelNeverAPath()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var response = await client.PostAsync("/api/datasets?name=" + Uri.EscapeDataString("../../etc/passwd"), Body("{\"input\": \"q\", \"output\": \"answer\"}"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var dataset = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dataset");
        Assert.Equal("../../etc/passwd", dataset.GetProperty("name").GetString());
        var id = dataset.GetProperty("id").GetString()!;
        Assert.All(FilesOnDisk(), f => Assert.StartsWith(Path.Combine(Root.Path, "datasets", id) + Path.DirectorySeparatorChar, f));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/datasets/..%2F..%2Fetc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/datasets/..")).StatusCode);
    }

    [Fact]
    public async Task ConcurrentUploadsOfTheSameContentEndAsOneDataset()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var text = string.Concat(Enumerable.Range(0, 2000).Select(i => $"{{\"instruction\": \"question {i}\", \"output\": \"answer {i}\"}}\n"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => client.PostAsync($"/api/datasets?name=copy{i}", Body(text))));
        var ids = new HashSet<string>();
        foreach (var r in responses)
        {
            Assert.True(r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, r.StatusCode.ToString());
            ids.Add((await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("dataset").GetProperty("id").GetString()!);
        }
        Assert.Single(ids);
        Assert.Equal(1, await Db.SortedSetLengthAsync(StreamNames.Datasets));
        Assert.Single(Directory.GetDirectories(Path.Combine(Root.Path, "datasets")));
    }

    [Fact]
    public async Task DeleteIsRefusedWhileAnUnfinishedJobUsesTheDataset()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var created = await (await client.PostAsync("/api/datasets", Body("{\"input\": \"q\", \"output\": \"answer\"}"))).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("dataset").GetProperty("id").GetString()!;
        await Db.HashSetAsync("ft:job:j1", [new("id", "j1"), new("status", "training"), new("spec", $$"""{"model":"tiny-llama","datasetId":"{{id}}"}""")]);
        await Db.SortedSetAddAsync("ft:jobs", "j1", 1);

        var refused = await client.DeleteAsync($"/api/datasets/{id}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("j1", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobs")[0].GetString());
        Assert.True(Directory.Exists(Path.Combine(Root.Path, "datasets", id)));

        await Db.HashSetAsync("ft:job:j1", "status", "done");
        await new DatasetRegistry(_host.Multiplexer).AddReferenceAsync(id, "j2");
        await Db.HashSetAsync("ft:job:j2", "status", "queued");
        Assert.Equal(HttpStatusCode.Conflict, (await client.DeleteAsync($"/api/datasets/{id}")).StatusCode);
        await Db.HashSetAsync("ft:job:j2", "status", "cancelled");

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/datasets/{id}")).StatusCode);
        Assert.False(Directory.Exists(Path.Combine(Root.Path, "datasets", id)));
        Assert.False(await Db.KeyExistsAsync(StreamNames.Dataset(id)));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/datasets/{id}")).StatusCode);
    }

    [Fact]
    public async Task UploadOverTheSizeLimitIsRefusedWhileStreaming()
    {
        await using var factory = Factory(maxUploadBytes: 64 * 1024);
        using var client = RawClient(factory);
        // No Content-Length: the limit can only be enforced while reading.
        var response = await client.PostAsync("/api/datasets", new GeneratedLineContent(1024 * 1024, lines: 1000));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(FilesOnDisk());
    }

    [Fact]
    public async Task FiftyMegabyteSingleLineIsRejectedWithinAMemoryBound()
    {
        await using var factory = Factory();
        using var client = RawClient(factory);
        await client.GetAsync("/api/datasets"); // warm up: JIT and first-request allocations are not the upload's
        const long size = 50L * 1024 * 1024;
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var response = await client.PostAsync("/api/datasets", new GeneratedLineContent(size, lines: 1));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        _output.WriteLine($"allocated {allocated / 1024.0 / 1024.0:F1} MiB while handling a {size / 1024 / 1024} MiB single-line upload");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors")[0];
        Assert.Equal(1, error.GetProperty("line").GetInt64());
        Assert.Contains($"{size - 1} bytes, over the 8388608-byte limit", error.GetProperty("message").GetString());
        // Bound (measured 18.6 MiB): the 8 MiB record limit (the line buffer grows by doubling to it: ~16 MiB allocated) plus transport
        // buffers, well under the 50 MiB the file would take if it were buffered.
        Assert.True(allocated < 28L * 1024 * 1024, $"allocated {allocated / (1024 * 1024)} MiB while rejecting a 50 MiB line");
        Assert.Empty(FilesOnDisk());
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheDatasetEndpoints()
    {
        await using var factory = Factory();
        using var client = factory.CreateClient();
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/datasets", out _));
        Assert.True(paths.TryGetProperty("/api/datasets/{id}/preview", out _));
    }
}

/// <summary>
/// A request body generated on the fly (never held in memory): <c>lines</c> JSONL lines of an input/output record padded
/// with 'a's to <c>size</c> bytes in total, sent without Content-Length.
/// </summary>
internal sealed class GeneratedLineContent(long size, int lines) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)'a');
        var perLine = size / lines;
        var head = "{\"input\": \"q\", \"output\": \""u8.ToArray();
        var tail = "\"}\n"u8.ToArray();
        for (var l = 0; l < lines; l++)
        {
            await stream.WriteAsync(head);
            var remaining = perLine - head.Length - tail.Length;
            while (remaining > 0)
            {
                var n = (int)Math.Min(remaining, chunk.Length);
                await stream.WriteAsync(chunk.AsMemory(0, n));
                remaining -= n;
            }
            await stream.WriteAsync(tail);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
