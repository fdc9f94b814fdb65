extern alias frontdoor;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FineTune.Data.Shards;
using FineTune.Messaging;
using FineTune.Messaging.Contracts;
using FineTune.Models.Core.Tokenizers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Preprocess.Worker.Services;
using StackExchange.Redis;

namespace Preprocess.Worker.Tests;

/// <summary>The preprocess worker on a real Redis: requests in, shards and ready events out; skips, claims, dead letters.</summary>
[Trait(Repo.NeedsTrait, Repo.SharedTraitValue)] // reads ../shared; ./test.sh skips it, saying so, where ../shared is absent
public sealed class PreprocessWorkerTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly RedisServer _redis = new();
    private readonly PreprocessFixture _fx = new();
    private ConnectionMultiplexer _mux = null!;
    private IDatabase Db => _mux.GetDatabase();

    public async Task InitializeAsync()
    {
        await _redis.StartAsync();
        _mux = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _mux.DisposeAsync();
        await _redis.DisposeAsync();
        _fx.Dispose();
    }

    private PreprocessWorker Worker(string consumer) => new(_mux, _fx.Pipeline(), new GeneratedModelWriter(_fx.Root, NullLogger<GeneratedModelWriter>.Instance),
        Options.Create(new PreprocessWorkerOptions
        {
            Consumer = new StreamWorkerOptions
            {
                ConsumerName = consumer,
                MinIdle = TimeSpan.FromMilliseconds(500),
                ClaimInterval = TimeSpan.FromMilliseconds(50),
                MaxPollInterval = TimeSpan.FromMilliseconds(100),
                TransientRetries = 1,
            },
        }),
        NullLogger<PreprocessWorker>.Instance);

    private async Task<List<PreprocessReady>> ReadyAsync() =>
        (await Db.StreamRangeAsync(StreamNames.PreprocessReady))
        .Select(e => PreprocessReady.From(StreamMessage.From(StreamNames.PreprocessReady, e, 1))).ToList();

    private Task WaitForReadyAsync(int count) =>
        Eventually.UntilAsync(async () => await Db.StreamLengthAsync(StreamNames.PreprocessReady) >= count, Bound, $"{count} ready event(s)");

    [Fact]
    public async Task DatasetUploadedWithOneRequestBecomesShardsATrainerCanRead()
    {
        var port = FreePort.Next();
        await using var factory = new WebApplicationFactory<frontdoor::Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("urls", $"http://127.0.0.1:{port}");   // else the default :5000 collides with other test projects
            b.UseSetting("ConnectionStrings:redis", _redis.ConnectionString);
            b.UseSetting("FineTune:DataRoot", _fx.Root.Path);
        });
        factory.UseKestrel(port);
        factory.StartServer();
        using var client = factory.CreateClient();
        using var worker = Worker("p1");
        await worker.StartAsync(default);

        // The documented one-liner: curl --data-binary @seed001.jsonl 'http://…/api/datasets?name=sar&model=tiny&evalRatio=0.5'
        var response = await client.PostAsync("/api/datasets?name=sar&model=tiny&evalRatio=0.5",
            new ByteArrayContent(await File.ReadAllBytesAsync(FixtureFile.Path("seed001_instruction.jsonl"))));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var upload = await response.Content.ReadFromJsonAsync<JsonElement>();
        var requestId = upload.GetProperty("preprocessRequestId").GetString();

        await WaitForReadyAsync(1);
        var ready = Assert.Single(await ReadyAsync());
        Assert.Equal(requestId, ready.RequestId);
        Assert.False(ready.Skipped);
        var manifest = JsonSerializer.Deserialize<ShardManifest>(ready.Manifest, ShardManifest.Json)!;
        Assert.Equal(upload.GetProperty("dataset").GetProperty("id").GetString(), manifest.DatasetId);
        var tokenizerHash = Convert.FromHexString(HfTokenizer.FromFolder(_fx.Root.Model("tiny")).ContentHash);
        foreach (var split in new[] { "train", "eval" })
        {
            using var reader = ShardReader.Open(Path.Combine(ready.Path, manifest.Split(split)!.File));
            Assert.Equal(1, reader.Count);
            Assert.Equal(tokenizerHash, reader.TokenizerHash);
            var (tokens, mask) = reader.Read(0);
            Assert.True(mask.Count(m => m) > 0 && mask.Count(m => m) < tokens.Length);
        }
        Assert.Equal(0, (await Db.StreamPendingAsync(StreamNames.PreprocessRequests, StreamNames.PreprocessGroup)).PendingMessageCount);
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task RepeatedRequestIsSkipped()
    {
        var info = await _fx.IngestFixtureAsync("seed003_extraction.json");
        using var worker = Worker("p1");
        await worker.StartAsync(default);
        var request = new PreprocessRequest { JobId = "job-1", DatasetId = info.Id, Model = "tiny", MaxLength = 256 };
        await Db.PublishAsync(StreamNames.PreprocessRequests, request.ToFields());
        await WaitForReadyAsync(1);
        var shard = Path.Combine((await ReadyAsync())[0].Path, "train.bin");
        var written = File.GetLastWriteTimeUtc(shard);
        await Db.PublishAsync(StreamNames.PreprocessRequests, request.ToFields());
        await WaitForReadyAsync(2);

        var events = await ReadyAsync();
        Assert.Equal([false, true], events.Select(e => e.Skipped));
        Assert.Equal(events[0].Hash, events[1].Hash);
        Assert.Equal(written, File.GetLastWriteTimeUtc(shard));
        var jobEvents = await Db.StreamRangeAsync(StreamNames.JobEvents("job-1"));
        Assert.Equal(2, jobEvents.Length);
        Assert.Contains("skipped", jobEvents[1]["message"].ToString());
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task RequestNamingAGeneratedModelWritesItOnceThenTokenizesWithIt()
    {
        var info = await _fx.IngestFixtureAsync("seed003_extraction.json");
        var model = new FineTune.Contracts.Models.GeneratedModel("nano", 0, FineTune.Contracts.Models.GeneratedModel.BuiltinCorpus);
        var folder = _fx.Root.Model(model.Folder);
        Assert.False(Directory.Exists(folder));
        using var worker = Worker("p1");
        await worker.StartAsync(default);
        var request = new PreprocessRequest { JobId = "job-g", DatasetId = info.Id, Model = model.Folder, MaxLength = 256, GenerateModel = model.ToField() };
        await Db.PublishAsync(StreamNames.PreprocessRequests, request.ToFields());
        await WaitForReadyAsync(1);
        var written = File.GetLastWriteTimeUtc(Path.Combine(folder, "model.safetensors"));
        await Db.PublishAsync(StreamNames.PreprocessRequests, request.ToFields());
        await WaitForReadyAsync(2);

        var events = await ReadyAsync();
        Assert.Equal([false, true], events.Select(e => e.Skipped));
        var manifest = JsonDocument.Parse(events[0].Manifest).RootElement;
        Assert.Equal(HfTokenizer.FromFolder(folder).ContentHash, manifest.GetProperty("tokenizerHash").GetString());
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(folder, "model.safetensors")));
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task CrashedWorkersRequestIsClaimedAndFinishedByAnother()
    {
        var info = await _fx.IngestFixtureAsync("seed000_input_output.json");
        await Db.StreamCreateConsumerGroupAsync(StreamNames.PreprocessRequests, StreamNames.PreprocessGroup, "0-0", createStream: true);
        var id = await Db.PublishAsync(StreamNames.PreprocessRequests, new PreprocessRequest { DatasetId = info.Id, Model = "tiny" }.ToFields());
        // A preprocessor took the request and died before acking it.
        Assert.Single(await Db.StreamReadGroupAsync(StreamNames.PreprocessRequests, StreamNames.PreprocessGroup, "crashed", ">", count: 1));

        using var survivor = Worker("survivor");
        await survivor.StartAsync(default);
        await WaitForReadyAsync(1);
        Assert.Equal(id, Assert.Single(await ReadyAsync()).RequestId);
        await Eventually.UntilAsync(async () =>
            (await Db.StreamPendingAsync(StreamNames.PreprocessRequests, StreamNames.PreprocessGroup)).PendingMessageCount == 0, Bound, "acked");
        await survivor.StopAsync(default);
    }

    [Fact]
    public async Task RequestForAMissingDatasetIsDeadLetteredAndFailsItsJob()
    {
        using var worker = Worker("p1");
        await worker.StartAsync(default);
        await new FineTune.Messaging.Jobs.JobStore(_mux).CreateAsync("job-9", "{}");
        await Db.PublishAsync(StreamNames.PreprocessRequests, new PreprocessRequest { JobId = "job-9", DatasetId = "0123456789abcdef", Model = "tiny" }.ToFields());
        await Eventually.UntilAsync(async () => await Db.StreamLengthAsync(StreamNames.DeadLetter) == 1, Bound, "dead-lettered");
        await Eventually.UntilAsync(async () => await Db.HashGetAsync(StreamNames.Job("job-9"), "status") == "failed", Bound, "the job marked failed");
        Assert.Contains("does not exist", (await Db.HashGetAsync(StreamNames.Job("job-9"), "error")).ToString());
        var dead = (await Db.StreamRangeAsync(StreamNames.DeadLetter))[0];
        Assert.Contains("dataset '0123456789abcdef' does not exist", dead["error"].ToString());
        Assert.Equal(StreamNames.PreprocessRequests, dead["stream"].ToString());
        await worker.StopAsync(default);
    }

    [Fact]
    public async Task DamagedStoredDatasetIsDeadLetteredOnceWithTheLineAndNoStack()
    {
        var info = await _fx.IngestFixtureAsync("seed000_input_output.json");
        var train = Path.Combine(_fx.Root.Dataset(info.Id), FineTune.Data.Storage.DatasetFiles.Train);
        var lines = await File.ReadAllLinesAsync(train);
        byte[] damaged = [.. System.Text.Encoding.UTF8.GetBytes(lines[0] + "\n{\"messages\": [{\"role\": \"user\", \"content\": \"q"), 0xC3, 0x28, 0xFF, 0xFE,
            .. System.Text.Encoding.UTF8.GetBytes("\"}]}\n")];
        await File.WriteAllBytesAsync(train, damaged);
        using var worker = Worker("p1");
        await worker.StartAsync(default);
        await new FineTune.Messaging.Jobs.JobStore(_mux).CreateAsync("job-8", "{}");

        await Db.PublishAsync(StreamNames.PreprocessRequests, new PreprocessRequest { JobId = "job-8", DatasetId = info.Id, Model = "tiny" }.ToFields());

        await Eventually.UntilAsync(async () => await Db.StreamLengthAsync(StreamNames.DeadLetter) == 1, Bound, "dead-lettered");
        var dead = (await Db.StreamRangeAsync(StreamNames.DeadLetter))[0];
        var error = dead["error"].ToString();
        Assert.Contains($"dataset {info.Id}, train.jsonl line 2", error);
        Assert.Contains("UTF-8", error);
        Assert.Equal("1", dead["attempts"].ToString());
        Assert.Equal("", dead["stack"].ToString());
        await Eventually.UntilAsync(async () => await Db.HashGetAsync(StreamNames.Job("job-8"), "status") == "failed", Bound, "the job marked failed");
        Assert.Contains("line 2", (await Db.HashGetAsync(StreamNames.Job("job-8"), "error")).ToString());
        Assert.Empty(await Db.StreamRangeAsync(StreamNames.PreprocessReady));
        await worker.StopAsync(default);
    }
}
