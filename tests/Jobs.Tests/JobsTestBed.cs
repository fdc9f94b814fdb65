using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FineTune.Models.Tiny;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Jobs.Tests;

/// <summary>
/// The front door as it runs: real redis-server, the Dataset.Api (with the Jobs API and the job router) on a real Kestrel
/// port, one real Preprocess.Worker and one real Trainer.Worker process, and a data root holding the nano tiny model as
/// <c>models/nano</c>.
/// </summary>
public sealed class JobsTestBed : IAsyncLifetime
{
    private readonly TempDirectory _root = new("ft-jobs");
    private WebApplicationFactory<Program>? _factory;

    public RedisServer Redis { get; } = new();
    public string DataRoot => _root.Path;
    public HttpClient Http { get; private set; } = null!;
    public TrainerReplica Trainer { get; private set; } = null!;
    public ServiceProcess Preprocess { get; private set; } = null!;

    /// <summary>16 chat records: "What is i plus i?" → "2i".</summary>
    public static string SumsJsonl => string.Join('\n', Enumerable.Range(0, 16).Select(i =>
        $$"""{"messages":[{"role":"user","content":"What is {{i}} plus {{i}}?"},{"role":"assistant","content":"{{i + i}}"}]}"""));

    public async Task InitializeAsync()
    {
        await Redis.StartAsync();
        TinyModel.Write(Path.Combine(DataRoot, "models", "nano"), seed: 7, TinyModelPreset.Nano);
        var port = FreePort.Next();
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("urls", $"http://127.0.0.1:{port}");   // else the default :5000 collides with other test projects
            b.UseSetting("ConnectionStrings:redis", Redis.ConnectionString);
            b.UseSetting("FineTune:DataRoot", DataRoot);
        });
        _factory.UseKestrel(port);
        _factory.StartServer();
        using var probe = _factory.CreateClient();
        Http = new HttpClient { BaseAddress = probe.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        Preprocess = ServiceProcess.Start("Preprocess.Worker", "preprocess", Redis.ConnectionString, DataRoot);
        Trainer = TrainerReplica.Start("trainer-0", Redis.ConnectionString, DataRoot, TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        Trainer?.Dispose();
        Preprocess?.Dispose();
        Http?.Dispose();
        if (_factory is not null) await _factory.DisposeAsync();
        await Redis.DisposeAsync();
        _root.Dispose();
    }

    /// <summary>Uploads the sums dataset through POST /api/datasets; returns its id.</summary>
    public async Task<string> UploadSumsAsync()
    {
        using var response = await Http.PostAsync("/api/datasets?name=sums.jsonl", new StringContent(SumsJsonl, Encoding.UTF8, "application/octet-stream"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("dataset").GetProperty("id").GetString()!;
    }

    /// <summary>A short deterministic CPU run on the nano model.</summary>
    public static object Options(int maxSteps) => new
    {
        model = "nano",
        lora = new { r = 4, alpha = 8, dropout = 0 },
        sft = new { max_seq_len = 64 },
        training = new { micro_batch_size = 2, gradient_accumulation_steps = 1, max_steps = maxSteps, learning_rate = 0.001, warmup_steps = 0, deterministic = true, seed = 11 },
    };

    public async Task<JsonElement> GetJobAsync(string id)
    {
        var text = await Http.GetStringAsync($"/api/jobs/{id}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>Polls GET /api/jobs/{id} (bounded) until the status satisfies <paramref name="done"/>.</summary>
    public Task<JsonElement> WaitForStatusAsync(string id, Func<string, bool> done, TimeSpan timeout) =>
        Eventually.UntilAsync(() => GetJobAsync(id), job => done(job.GetProperty("status").GetString()!), timeout, $"job {id}'s status",
            TimeSpan.FromMilliseconds(100), () => $"trainer said:\n{Trainer.Output}\npreprocess said:\n{Preprocess.Output}");

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    public static JsonContent Json(object value) => JsonContent.Create(value);
}

/// <summary>One test bed (Redis, API, trainer process) shared by every test class: the trainer runs their jobs one after another.</summary>
[CollectionDefinition(Name)]
public sealed class JobsCollection : ICollectionFixture<JobsTestBed>
{
    public const string Name = "jobs";
}
