using FineTune.AppHost.Hosting;
using FineTune.AppHost.Hosting.Runner;

namespace FineTune.AppHost.Dashboard;

public static class DashboardHostingExtensions
{
    /// <summary>
    /// Registers the embedded dashboard as the AppHost's <see cref="IDashboard"/>: the runner starts it before any resource
    /// and gives every resource its OTLP endpoint and API key. Options come from the "Dashboard" configuration section
    /// (see <see cref="DashboardOptions"/>), then <paramref name="configure"/>. DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true
    /// turns off both the browser token and the OTLP API key, as in Aspire. The Jobs pages read the redis resource named
    /// by <see cref="DashboardOptions.RedisResourceName"/>, whose connection string the runner resolves.
    /// </summary>
    public static IDistributedApplicationBuilder AddEmbeddedDashboard(this IDistributedApplicationBuilder builder, Action<DashboardOptions>? configure = null)
    {
        var options = new DashboardOptions();
        builder.Configuration.GetSection(DashboardOptions.SectionName).Bind(options);
        if (string.Equals(builder.Configuration["DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"], "true", StringComparison.OrdinalIgnoreCase))
        {
            options.AuthMode = DashboardAuthMode.Unsecured;
            options.OtlpAuthMode = OtlpAuthMode.Unsecured;
        }
        configure?.Invoke(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(sp => new EmbeddedDashboard(options, RedisFromAppModel(sp.GetRequiredService<DistributedApplicationModel>(), options)));
        builder.Services.AddSingleton<IDashboard>(sp => sp.GetRequiredService<EmbeddedDashboard>());
        return builder;
    }

    /// <summary>The app model's redis connection string, evaluated with the runner's allocated port and generated password.</summary>
    private static Func<IResourceStateSource, string?> RedisFromAppModel(DistributedApplicationModel model, DashboardOptions options) => source =>
    {
        var redis = model.Resources.OfType<IResourceWithConnectionString>().FirstOrDefault(r => r.Name == options.RedisResourceName);
        return redis is not null && source is AppHostRunner runner ? redis.ConnectionStringExpression.GetValue(runner.Values) : null;
    };
}
