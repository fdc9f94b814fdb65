using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FineTune.AppHost.Dashboard.Api;
using FineTune.AppHost.Dashboard.Jobs;
using FineTune.AppHost.Dashboard.Otlp;
using FineTune.AppHost.Dashboard.Telemetry;
using FineTune.AppHost.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FineTune.AppHost.Dashboard;

/// <summary>
/// The AppHost's own dashboard, written for FineTune.Aspire because the Aspire dashboard cannot be installed here.
/// One Kestrel server, three ports: the pages (BrowserToken login, cookie), OTLP/gRPC and OTLP/HTTP (API key).
/// Telemetry is kept in memory (<see cref="TelemetryStore"/>); resources and console logs come from the runner
/// (<see cref="IResourceStateSource"/>); jobs are read from Redis (<see cref="JobStore"/>).
/// </summary>
public sealed class EmbeddedDashboard : IDashboard
{
    private readonly Func<IResourceStateSource, string?>? _redisFromResources;
    private IResourceStateSource? _resources;
    private WebApplication? _app;

    /// <param name="redisFromResources">Resolves the Jobs pages' Redis connection string from the runner when
    /// <see cref="DashboardOptions.RedisConnectionString"/> is empty (evaluated on first use, after redis has its port).</param>
    public EmbeddedDashboard(DashboardOptions options, Func<IResourceStateSource, string?>? redisFromResources = null)
    {
        Options = options;
        _redisFromResources = redisFromResources;
        Telemetry = new TelemetryStore(options);
        Jobs = new JobStore(() => !string.IsNullOrWhiteSpace(options.RedisConnectionString)
            ? options.RedisConnectionString
            : _resources is not null ? _redisFromResources?.Invoke(_resources) : null);
    }

    public DashboardOptions Options { get; }

    public TelemetryStore Telemetry { get; }

    public JobStore Jobs { get; }

    /// <summary>Where it listens, once started.</summary>
    public DashboardEndpoints? Endpoints { get; private set; }

    /// <summary>The pages' base URL (no token), once started.</summary>
    public Uri? UiUrl { get; private set; }

    public async Task<DashboardEndpoints> StartAsync(IResourceStateSource resources, CancellationToken cancellationToken)
    {
        if (_app is not null) throw new InvalidOperationException("The dashboard is already started.");
        _resources = resources;
        if (Options.AuthMode == DashboardAuthMode.BrowserToken && string.IsNullOrEmpty(Options.BrowserToken))
            Options.BrowserToken = RandomNumberGenerator.GetHexString(32, lowercase: true);
        if (Options.OtlpAuthMode == OtlpAuthMode.ApiKey && string.IsNullOrEmpty(Options.OtlpApiKey))
            Options.OtlpApiKey = RandomNumberGenerator.GetHexString(32, lowercase: true);

        var uiPort = PortOrFree(Options.UiPort);
        var grpcPort = PortOrFree(Options.OtlpGrpcPort);
        var httpPort = PortOrFree(Options.OtlpHttpPort);
        if (new[] { uiPort, grpcPort, httpPort }.Distinct().Count() != 3)
            throw new InvalidOperationException($"Dashboard ports must differ: UI {uiPort}, OTLP/gRPC {grpcPort}, OTLP/HTTP {httpPort}.");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "FineTune.Dashboard",
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.Sources.Clear(); // the AppHost's own settings (ASPNETCORE_URLS, …) are not the dashboard's
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, uiPort, HttpProtocols.Http1);
            Listen(kestrel, grpcPort, HttpProtocols.Http2);
            Listen(kestrel, httpPort, HttpProtocols.Http1);
        });

        var services = builder.Services;
        services.AddSingleton(Options);
        services.AddSingleton(Telemetry);
        services.AddSingleton(Jobs);
        services.AddSingleton(resources);
        services.AddSingleton<OtlpApiKey>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<OtlpApiKeyInterceptor>();
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, Options.MaxOtlpRequestBytes);
        });
        services.AddDataProtection().UseEphemeralDataProtectionProvider(); // cookies live as long as this AppHost run
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(cookie =>
        {
            cookie.Cookie.Name = ".FineTune.Dashboard";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = TimeSpan.FromDays(3);
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/login";
            cookie.Events.OnRedirectToLogin = context =>
            {
                // The API answers 401; pages go to the login form.
                if (context.Request.Path.StartsWithSegments("/api")) context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                else context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        services.AddAuthorization(auth =>
        {
            if (Options.AuthMode == DashboardAuthMode.BrowserToken)
                auth.FallbackPolicy = auth.DefaultPolicy; // everything not marked anonymous needs the login cookie
        });
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));

        var app = builder.Build();
        app.UseDashboardHeaders();
        app.UseAuthentication();
        app.UseAuthorization();

        foreach (var service in new[] { app.MapGrpcService<OtlpTraceService>(), app.MapGrpcService<OtlpMetricsService>(), app.MapGrpcService<OtlpLogsService>() })
            service.RequireHost($"*:{grpcPort}").AllowAnonymous();
        app.MapOtlpHttpApi(httpPort);

        var ui = app.MapGroup("").RequireHost($"*:{uiPort}");
        ui.MapLogin();
        ui.MapPages();
        var api = ui.MapGroup("/api");
        api.MapResourcesApi();
        api.MapTelemetryApi();
        api.MapJobsApi();

        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException ex)
        {
            await app.DisposeAsync();
            throw new AppHostException($"dashboard: cannot listen on ports {uiPort}/{grpcPort}/{httpPort} ({ex.Message}); " +
                "another AppHost may be running, or set Dashboard:UiPort, Dashboard:OtlpGrpcPort, Dashboard:OtlpHttpPort (0 = any free port).", ex);
        }
        _app = app;

        var host = HostForUrls();
        UiUrl = new Uri($"http://{host}:{uiPort}/");
        var browserUrl = Options.AuthMode == DashboardAuthMode.BrowserToken
            ? $"http://{host}:{uiPort}/login?t={Options.BrowserToken}"
            : UiUrl.ToString();
        Endpoints = new DashboardEndpoints(browserUrl, $"http://{host}:{grpcPort}", $"http://{host}:{httpPort}",
            Options.OtlpAuthMode == OtlpAuthMode.ApiKey ? Options.OtlpApiKey : null);
        return Endpoints;
    }

    private void Listen(KestrelServerOptions kestrel, int port, HttpProtocols protocols)
    {
        Action<ListenOptions> configure = o => o.Protocols = protocols;
        switch (Options.BindAddress)
        {
            case "localhost" or "":
                kestrel.ListenLocalhost(port, configure);
                break;
            case "*" or "0.0.0.0" or "+":
                kestrel.ListenAnyIP(port, configure);
                break;
            default:
                if (!IPAddress.TryParse(Options.BindAddress, out var address))
                    throw new InvalidOperationException($"Dashboard:BindAddress '{Options.BindAddress}' is not 'localhost', '*' or an IP address.");
                kestrel.Listen(address, port, configure);
                break;
        }
    }

    private string HostForUrls() => Options.BindAddress switch
    {
        "localhost" or "" or "*" or "0.0.0.0" or "+" => "localhost",
        var ip when IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 => $"[{ip}]",
        var ip => ip,
    };

    /// <summary>The configured port, or (for 0) one the OS reports free now.</summary>
    private static int PortOrFree(int port)
    {
        if (port != 0) return port;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
        await Jobs.DisposeAsync();
    }
}
