using FineTune.AppHost.Hosting;

namespace FineTune.AppHost.Dashboard;

public static class DashboardHostingExtensions
{
    /// <summary>
    /// Registers the embedded dashboard as the AppHost's <see cref="IDashboard"/>, with options from the "Dashboard"
    /// configuration section (see <see cref="DashboardOptions"/>) and then <paramref name="configure"/>.
    /// DOTNET_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true turns off both the browser token and the OTLP API key, as in Aspire.
    /// </summary>
    public static TBuilder AddEmbeddedDashboard<TBuilder>(this TBuilder builder, Action<DashboardOptions>? configure = null)
        where TBuilder : IHostApplicationBuilder
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
        builder.Services.AddSingleton<EmbeddedDashboard>();
        builder.Services.AddSingleton<IDashboard>(sp => sp.GetRequiredService<EmbeddedDashboard>());
        return builder;
    }
}
