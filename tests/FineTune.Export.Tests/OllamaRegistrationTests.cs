using FineTune.Export.Ollama;
using FineTune.Models.Core.ChatTemplates;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTune.Export.Tests;

/// <summary>Registration through OllamaSharp against the Ollama API stub (documented /api behaviour).</summary>
/// <remarks>
/// Runs alone: the streaming test reads the process-wide allocation counter, which other test classes running in
/// parallel would inflate (CI saw 55 MiB from neighbours while this upload itself streamed).
/// </remarks>
[Collection(AllocationSensitive.Name)]
public sealed class OllamaRegistrationTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("ollama");
    private OllamaStub _stub = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _stub = await OllamaStub.StartAsync();
        _http = new HttpClient { BaseAddress = _stub.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _stub.DisposeAsync();
        _dir.Dispose();
    }

    private OllamaRegistration Registration(HttpClient? http = null) =>
        new(http ?? _http, NullLogger.Instance, maxRetries: 3, baseDelay: TimeSpan.FromMilliseconds(20));

    private OllamaBlob Blob(string name, int bytes, int seed)
    {
        var path = _dir.File(name);
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        File.WriteAllBytes(path, data);
        return new OllamaBlob(name, path, FileDigest.Sha256Hex(path));
    }

    private static Modelfile ChatMl(string from, string? adapter = null) =>
        Modelfile.Create(from, adapter, BuiltInTemplates.ChatMl, ["<|im_end|>"], "Be brief.", new OllamaParameters(0.3, 0.9, 2048));

    [Fact]
    public async Task RegistersTheGgufWithTemplateAndParametersAndRunsTheEvaluationPrompts()
    {
        var gguf = Blob("model.gguf", 100_000, 1);
        var result = await Registration().RegisterAsync(new RegistrationRequest("shop", [gguf], [], ChatMl("./model.gguf"),
            EvaluationPrompts: ["What costs $19.99?", "List the brands."]), CancellationToken.None);

        Assert.Equal(RegistrationStatus.Registered, result.Status);
        Assert.Equal(["model.gguf"], result.UploadedBlobs);
        Assert.True(_stub.HasBlob("sha256:" + gguf.Sha256));
        var created = _stub.Model("shop")!;
        Assert.Equal("sha256:" + gguf.Sha256, created["files"]!["model.gguf"]!.GetValue<string>());
        Assert.Contains("<|im_start|>assistant", created["template"]!.GetValue<string>());
        Assert.Equal("Be brief.", created["system"]!.GetValue<string>());
        Assert.Equal(["<|im_start|>", "<|im_end|>"], created["parameters"]!["stop"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Equal(2048, created["parameters"]!["num_ctx"]!.GetValue<int>());
        Assert.Equal(["stub reply to: What costs $19.99?", "stub reply to: List the brands."], result.Evaluations.Select(e => e.Response));
        Assert.Contains("GET /api/tags", _stub.Requests);
    }

    [Fact]
    public async Task BlobsTheServerAlreadyHasAreNotUploadedAgain()
    {
        var gguf = Blob("model.gguf", 50_000, 2);
        await Registration().RegisterAsync(new RegistrationRequest("a", [gguf], [], ChatMl("./model.gguf")), CancellationToken.None);
        var posts = _stub.Requests.Count(r => r.StartsWith("POST /api/blobs/"));
        var second = await Registration().RegisterAsync(new RegistrationRequest("b", [gguf], [], ChatMl("./model.gguf")), CancellationToken.None);
        Assert.Equal(RegistrationStatus.Registered, second.Status);
        Assert.Empty(second.UploadedBlobs);
        Assert.Equal(["model.gguf"], second.ExistingBlobs);
        Assert.Equal(posts, _stub.Requests.Count(r => r.StartsWith("POST /api/blobs/")));
    }

    [Fact]
    public async Task AdapterIsRegisteredOnTopOfTheBaseModel()
    {
        var baseGguf = Blob("base.gguf", 30_000, 3);
        await Registration().RegisterAsync(new RegistrationRequest("base", [baseGguf], [], ChatMl("./base.gguf")), CancellationToken.None);
        var adapter = Blob("adapter.gguf", 10_000, 4);
        var result = await Registration().RegisterAsync(
            new RegistrationRequest("tuned", [], [adapter], ChatMl("base", "./adapter.gguf"), FromModel: "base"), CancellationToken.None);
        Assert.Equal(RegistrationStatus.Registered, result.Status);
        var created = _stub.Model("tuned")!;
        Assert.Equal("base", created["from"]!.GetValue<string>());
        Assert.Equal("sha256:" + adapter.Sha256, created["adapters"]!["adapter.gguf"]!.GetValue<string>());
    }

    [Fact]
    public async Task TransientServerErrorsAreRetriedUntilTheyPass()
    {
        var gguf = Blob("model.gguf", 20_000, 5);
        _stub.Faults["/api/create"] = (2, 503);
        _stub.Faults["/api/blobs"] = (1, 502);
        var result = await Registration().RegisterAsync(new RegistrationRequest("retry", [gguf], [], ChatMl("./model.gguf")), CancellationToken.None);
        Assert.Equal(RegistrationStatus.Registered, result.Status);
        Assert.Equal(3, _stub.Requests.Count(r => r == "POST /api/create"));
    }

    [Fact]
    public async Task APermanentErrorFailsOnlyTheRegistrationWithTheReasonAndIsNotRetried()
    {
        var gguf = Blob("model.gguf", 20_000, 6);
        _stub.Faults["/api/create"] = (99, 400);
        var result = await Registration().RegisterAsync(new RegistrationRequest("bad", [gguf], [], ChatMl("./model.gguf")), CancellationToken.None);
        Assert.Equal(RegistrationStatus.Failed, result.Status);
        Assert.Contains("400", result.Reason);
        Assert.Equal(1, _stub.Requests.Count(r => r == "POST /api/create"));
        Assert.Equal(["model.gguf"], result.UploadedBlobs);   // what was done is reported
    }

    [Fact]
    public async Task UnreachableOllamaIsSkippedWithTheCreateCommand()
    {
        using var nowhere = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{FreePort.Next()}/") };
        var result = await Registration(nowhere).RegisterAsync(
            new RegistrationRequest("offline", [Blob("model.gguf", 1000, 7)], [], ChatMl("./model.gguf")), CancellationToken.None);
        Assert.Equal(RegistrationStatus.Skipped, result.Status);
        Assert.Contains("ollama create offline -f Modelfile", result.Reason);
    }

    [Fact]
    public async Task LargeBlobsAreStreamedFromDiskNotBufferedInMemory()
    {
        var gguf = Blob("big.gguf", 64 << 20, 8);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await Registration().RegisterAsync(new RegistrationRequest("big", [gguf], [], ChatMl("./big.gguf")), CancellationToken.None);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(result.Status == RegistrationStatus.Registered, result.Reason);
        Assert.Equal(64L << 20, _stub.LargestBlobBytes);
        // Client and stub share this process: together they allocated far less than the 64 MiB body.
        Assert.True(allocated < 24L << 20, $"allocated {allocated / (1 << 20)} MiB while uploading 64 MiB");
    }
}
