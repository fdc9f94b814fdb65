// Our own AppHost engine, following .NET Aspire's conventions: the builder Program.cs talks to. It wraps a
// HostApplicationBuilder (configuration from appsettings, environment and command line; services; logging),
// holds the resources in the order they were added, and knows where the AppHost project and its state live.

using System.Reflection;
using FineTune.AppHost.Publishing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTune.AppHost.Hosting;

public interface IDistributedApplicationBuilder
{
    IConfigurationManager Configuration { get; }

    IServiceCollection Services { get; }

    IHostEnvironment Environment { get; }

    /// <summary>The AppHost project folder: project paths and executables' working directories are relative to it.</summary>
    string AppHostDirectory { get; }

    /// <summary>Where local state lives (redis data, the shared data folder): &lt;repo&gt;/.ft unless AppHost:StateDirectory says otherwise.</summary>
    string StateDirectory { get; }

    /// <summary>Run mode or publish mode, and which publisher.</summary>
    DistributedApplicationExecutionContext ExecutionContext { get; }

    IReadOnlyList<IResource> Resources { get; }

    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;

    DistributedApplication Build();
}

public sealed record DistributedApplicationOptions
{
    public string[] Args { get; init; } = [];

    /// <summary>Overrides the AppHost directory (tests point it at their own test apps).</summary>
    public string? AppHostDirectory { get; init; }

    /// <summary>Overrides the host environment name (Development turns on Aspire's fast OTEL export settings for services).</summary>
    public string? EnvironmentName { get; init; }
}

public sealed class DistributedApplicationExecutionContext(string? publisher, string? outputPath)
{
    public string? PublisherName { get; } = publisher;

    public string? OutputPath { get; } = outputPath;

    public bool IsPublishMode => PublisherName is not null;

    public bool IsRunMode => !IsPublishMode;
}

public sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    private static readonly Dictionary<string, string> SwitchMappings = new()
    {
        ["--publisher"] = "Publishing:Publisher",
        ["--output-path"] = "Publishing:OutputPath",
    };

    /// <summary>The app's flags (switches without a value) and the configuration each sets: <c>--no-demo</c> turns the embedded
    /// default job off (docs/jobs.md). Taken out of the arguments before the command-line provider, which expects key/value pairs.</summary>
    private static readonly Dictionary<string, (string Key, string Value)> FlagMappings = new(StringComparer.Ordinal)
    {
        ["--no-demo"] = ("FineTune:Demo:Enabled", "false"),
    };

    private readonly HostApplicationBuilder _host;
    private readonly List<IResource> _resources = [];

    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        var flags = options.Args.Where(FlagMappings.ContainsKey).ToList();
        var args = options.Args.Where(a => !FlagMappings.ContainsKey(a)).ToArray();
        _host = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ApplicationName = "FineTune.AppHost",
            ContentRootPath = options.AppHostDirectory ?? AppContext.BaseDirectory,
            EnvironmentName = options.EnvironmentName,
        });
        _host.Configuration.AddCommandLine(args, SwitchMappings);
        _host.Configuration.AddInMemoryCollection(flags.Select(f => new KeyValuePair<string, string?>(FlagMappings[f].Key, FlagMappings[f].Value)));

        AppHostDirectory = Path.GetFullPath(options.AppHostDirectory ?? FindAppHostDirectory());
        StateDirectory = Path.GetFullPath(_host.Configuration["AppHost:StateDirectory"]
            ?? Path.Combine(AppHostDirectory, "..", ".ft"));
        ExecutionContext = new DistributedApplicationExecutionContext(
            _host.Configuration["Publishing:Publisher"], _host.Configuration["Publishing:OutputPath"]);

        Services.AddKeyedSingleton<IDistributedApplicationPublisher, ManifestPublisher>(ManifestPublisher.Name);
    }

    public IConfigurationManager Configuration => _host.Configuration;

    public IServiceCollection Services => _host.Services;

    public IHostEnvironment Environment => _host.Environment;

    public string AppHostDirectory { get; }

    public string StateDirectory { get; }

    public DistributedApplicationExecutionContext ExecutionContext { get; }

    public IReadOnlyList<IResource> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        _resources.Add(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    public DistributedApplication Build()
    {
        Services.AddSingleton(new DistributedApplicationModel(_resources, AppHostDirectory, StateDirectory));
        Services.AddSingleton(ExecutionContext);
        return new DistributedApplication(_host.Build(), this);
    }

    /// <summary>The build writes the project folder into the assembly (AppHostProjectDirectory); fall back to the working directory.</summary>
    private static string FindAppHostDirectory()
    {
        var fromBuild = Assembly.GetEntryAssembly()?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "AppHostProjectDirectory")?.Value;
        return fromBuild is not null && Directory.Exists(fromBuild) ? fromBuild : Directory.GetCurrentDirectory();
    }
}

/// <summary>The finished app model, for the runner and the publishers.</summary>
public sealed record DistributedApplicationModel(IReadOnlyList<IResource> Resources, string AppHostDirectory, string StateDirectory);
