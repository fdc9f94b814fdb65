using System.Net.Http.Json;
using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Tests;

/// <summary>An in-process app model over the test apps (TestApps/), with its state in a temp folder.</summary>
public sealed class TestAppModel : IAsyncDisposable
{
    public static string TestAppsDirectory => Path.Combine(Repo.Root, "tests", "AppHost.Tests", "TestApps");

    public const string EchoProject = "EchoApp/EchoApp.csproj";

    private readonly TempDirectory _state = new("ft-apphost");
    private DistributedApplication? _app;

    public TestAppModel(params string[] extraArgs)
    {
        Builder = DistributedApplication.CreateBuilder(new DistributedApplicationOptions
        {
            Args = [$"--AppHost:StateDirectory={_state.Path}", .. extraArgs],
            AppHostDirectory = TestAppsDirectory,
            EnvironmentName = "Development",
        });
    }

    public IDistributedApplicationBuilder Builder { get; }

    public string StateDirectory => _state.Path;

    public DistributedApplication App => _app ??= Builder.Build();

    public IResourceStateSource States => App.ResourceStates;

    public ResourceSnapshot Resource(string name) => States.GetResources().Single(r => r.Name == name);

    public static async Task<EchoReply> EchoAsync(string baseUrl)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return (await http.GetFromJsonAsync<EchoReply>(baseUrl.TrimEnd('/') + "/env"))!;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
            await _app.DisposeAsync();
        _state.Dispose();
    }
}

public sealed record EchoReply(int Pid, int? GrandchildPid, Dictionary<string, string?> Environment);
