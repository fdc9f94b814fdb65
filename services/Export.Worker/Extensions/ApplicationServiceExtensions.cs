using FineTune.Data;
using System.Data.Common;
using Export.Worker.Services;
using FineTune.Export;
using FineTune.Export.Ollama;
using FineTune.Export.Verification;
using FineTune.Messaging;
using FineTune.Messaging.Jobs;

namespace Export.Worker.Extensions;

public static class ApplicationServiceExtensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddJobStoreRedis("redis");
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton(new StreamWorkerOptions());
        builder.Services.AddSingleton(DataRoot.FromConfigured(builder.Configuration[DataRoot.ConfigurationKey]));
        builder.Services.Configure<ExportWorkerOptions>(builder.Configuration.GetSection(ExportWorkerOptions.Section));

        // Ollama: ConnectionStrings__ollama = "Endpoint=http://host:port". This client is built here rather than by the
        // HttpClient factory on purpose: the factory's standard resilience handler would cap a multi-GB blob upload at
        // its 30 s timeout; OllamaRegistration carries its own Polly retries.
        builder.Services.AddSingleton(sp =>
        {
            var endpoint = OllamaEndpoint(builder.Configuration.GetConnectionString("ollama"));
            var http = endpoint is null ? null : new HttpClient { BaseAddress = endpoint, Timeout = Timeout.InfiniteTimeSpan };
            return new OllamaClientHolder(http is null ? null : new OllamaRegistration(http, sp.GetRequiredService<ILogger<OllamaRegistration>>()));
        });
        builder.Services.AddSingleton(sp =>
        {
            var tools = builder.Configuration[$"{ExportWorkerOptions.Section}:NodeTools"];
            return new LlamaCppHolder(string.IsNullOrEmpty(tools) ? null : new LlamaCppRunner(tools));
        });
        builder.Services.AddHostedService<ExportWorker>();
    }

    /// <summary>Reads "Endpoint=http://host:port" (or a bare URL).</summary>
    public static Uri? OllamaEndpoint(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) return null;
        if (Uri.TryCreate(connectionString, UriKind.Absolute, out var bare)) return bare;
        var csb = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return csb.TryGetValue("Endpoint", out var e) && Uri.TryCreate(e?.ToString(), UriKind.Absolute, out var uri) ? uri : null;
    }
}

public sealed record OllamaClientHolder(OllamaRegistration? Registration);
public sealed record LlamaCppHolder(LlamaCppRunner? Runner);
