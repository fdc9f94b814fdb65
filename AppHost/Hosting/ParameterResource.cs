// Our own AppHost engine, following .NET Aspire's conventions. A value supplied at deploy time (parameter.v0). Secrets are never
// written into the manifest: only "{name.value}" expressions and, for generated ones, the generation rule.
// In run mode the value comes from configuration "Parameters:<name>" (Aspire's key), else it is generated.

using System.Security.Cryptography;

namespace FineTune.AppHost.Hosting;

public sealed class ParameterResource(string name, bool secret, GeneratedValue? generate) : Resource(name), IValueProvider
{
    public bool Secret { get; } = secret;

    /// <summary>How a default is generated when configuration has no value; null means one must be configured.</summary>
    public GeneratedValue? Generate { get; } = generate;

    public string ValueExpression => $"{{{Name}.value}}";

    public string GetValue(RunValues values) => values.Parameter(this);
}

/// <summary>Aspire's "generate" default (only the fields this app uses).</summary>
public sealed record GeneratedValue(int MinLength = 22, bool Special = false)
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    private const string Specials = "-_.~!*";

    public string NewValue()
    {
        var alphabet = Special ? Letters + Specials : Letters;
        return RandomNumberGenerator.GetString(alphabet, MinLength);
    }
}
