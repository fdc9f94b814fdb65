using System.Text;
using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using FineTune.AppHost.Demo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MainJob.Tests;

/// <summary>
/// The real AppHost (AppHost/Program.cs) under Aspire.Hosting.Testing's DistributedApplicationTestingBuilder: DCP runs redis,
/// the four services and two trainers as processes, exactly as `dotnet run --project AppHost` does, with a private state
/// folder, the front door on a free port, no dashboard, and the demo's console lines collected instead of printed.
/// </summary>
public sealed class RealAppHost : IAsyncDisposable
{
    private readonly SynchronizedWriter _console;

    private RealAppHost(DistributedApplication app, SynchronizedWriter console)
    {
        App = app;
        _console = console;
    }

    public DistributedApplication App { get; }

    /// <summary>What the AppHost's demo client wrote to its console.</summary>
    public string Stdout => _console.Text;

    public string Describe() => $"AppHost console:\n{Stdout}";

    public static async Task<RealAppHost> StartAsync(string stateDirectory, TimeSpan bound, params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [$"--AppHost:StateDirectory={stateDirectory}", "--FineTune:FrontDoorPort=0", "--FineTune:InferencePort=0", "--AppHost:ContainerRuntime=none", .. AppHostArguments.Expand(args)],
            (options, _) => options.DisableDashboard = true);
        // On this shared 2-core machine a replica can take longer than the 30 s default to accept a group invitation;
        // the job must still be trained by both replicas, so the coordinator waits longer for its member here.
        var trainer = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "trainer");
        trainer.Annotations.Add(new EnvironmentCallbackAnnotation("Trainer__RecruitTimeout", () => "00:03:00"));
        var console = new SynchronizedWriter();
        builder.Services.Replace(ServiceDescriptor.Singleton(new DemoConsole(console)));
        var app = await builder.BuildAsync();
        using var cts = new CancellationTokenSource(bound);
        await app.StartAsync(cts.Token);
        return new RealAppHost(app, console);
    }

    /// <summary>The front door, once it is healthy.</summary>
    public async Task<Uri> WaitForFrontDoorAsync(TimeSpan bound)
    {
        using var cts = new CancellationTokenSource(bound);
        await App.ResourceNotifications.WaitForResourceHealthyAsync("dataset", cts.Token);
        return App.GetEndpoint("dataset", "http");
    }

    /// <summary>Waits (bounded) until the console has a line matching <paramref name="pattern"/>; returns the match.</summary>
    public Task<Match> WaitForLineAsync(Regex pattern, TimeSpan bound) =>
        Eventually.UntilAsync(() => Task.FromResult(pattern.Match(Stdout)), match => match.Success, bound,
            $"a line /{pattern}/", TimeSpan.FromMilliseconds(200), Describe);

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await App.StopAsync(cts.Token); }
        catch (OperationCanceledException) { }
        await App.DisposeAsync();
    }

    /// <summary>A console whose text can be read while the demo writes to it.</summary>
    private sealed class SynchronizedWriter : StringWriter
    {
        public string Text { get { lock (this) return ToString(); } }

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) { lock (this) base.Write(value); }

        public override void Write(string? value) { lock (this) base.Write(value); }

        public override void Write(char[] buffer, int index, int count) { lock (this) base.Write(buffer, index, count); }

        public override void WriteLine(string? value) { lock (this) base.WriteLine(value); }
    }
}
