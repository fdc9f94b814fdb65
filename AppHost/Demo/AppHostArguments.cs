namespace FineTune.AppHost.Demo;

/// <summary>
/// The AppHost's flags (switches without a value), turned into the configuration each sets before Aspire reads the command
/// line (its provider expects key/value pairs): <c>--no-demo</c> is <c>--FineTune:Demo:Enabled=false</c> (docs/jobs.md).
/// </summary>
public static class AppHostArguments
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--no-demo"] = "--FineTune:Demo:Enabled=false",
    };

    public static string[] Expand(string[] args) => [.. args.Select(a => Flags.GetValueOrDefault(a, a))];
}
