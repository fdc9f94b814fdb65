// Our own AppHost engine, following .NET Aspire's conventions: AddParameter(name, secret, generated default).

namespace FineTune.AppHost.Hosting;

public static class ParameterResourceExtensions
{
    /// <summary>A deploy-time value. Run mode reads configuration "Parameters:&lt;name&gt;", else generates one when <paramref name="generate"/> is given.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this IDistributedApplicationBuilder builder, string name,
        bool secret = false, GeneratedValue? generate = null) =>
        builder.AddResource(new ParameterResource(name, secret, generate));

    /// <summary>Aspire's default for generated passwords: 22 characters, letters and digits only.</summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, secret: true, new GeneratedValue(MinLength: 22, Special: false));
}
